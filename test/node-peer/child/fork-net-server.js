// SPDX-License-Identifier: ISC
// After test-child-process-fork-net-server.js, the parent side: a
// net.Server sent to the child is ACKed (so the parent's later messages
// flow) and the parent goes on serving; the child does not serve on it
// (ipcrun child does not pass handles on to CMD).
'use strict';
const assert = require('assert');
const net = require('net');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-']);
const server = net.createServer((s) => s.end('parent'));

server.listen(0, '127.0.0.1', mustCall(() => {
	n.send('server', server, mustCall((err) => {
		assert.ifError(err);
		n.send('after');
	}));
}));
n.on('message', mustCall((m) => {
	if (m !== 'after')
		return;
	const c = net.connect(server.address().port, '127.0.0.1');
	let data = '';
	c.on('data', (d) => { data += d; });
	c.on('end', mustCall(() => {
		assert.strictEqual(data, 'parent');
		n.disconnect();
		server.close();
	}));
}, 2));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
