// SPDX-License-Identifier: ISC
// After test-child-process-send-returns-boolean.js: true, true for two
// messages with a handle, then false, false while they wait behind the
// handle's ACK; ipcrun child ACKs each handle once, so all four reach CMD.
'use strict';
const assert = require('assert');
const net = require('net');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-']);
const got = [];

n.on('message', mustCall((m) => {
	got.push(m);
	if (got.length === 4) {
		assert.deepStrictEqual(got, ['one', 'two', 'three', 'four']);
		n.disconnect();
		server.close();
	}
}, 4));
const server = net.createServer().listen(0, '127.0.0.1', mustCall(() => {
	const handle = server._handle;
	assert.strictEqual(n.send('one', handle), true);
	assert.strictEqual(n.send('two', handle), true);
	assert.strictEqual(n.send('three'), false);
	assert.strictEqual(n.send('four'), false);
}));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
