// SPDX-License-Identifier: ISC
// After test-child-process-send-keep-open.js, the parent side: a socket
// sent with keepOpen stays usable in the parent once the child has taken
// it (ipcrun child ACKs it; it does not pass it on to CMD).
'use strict';
const assert = require('assert');
const net = require('net');
const { forkIpcrun, mustCall } = require('./common');

// CMD answers nothing: with no 'message' listener, a message arriving
// as the parent disconnects crashes Node's own parent (README).
const n = forkIpcrun(['sh', '-c', 'cat > /dev/null', '-']);
const server = net.createServer(mustCall((socket) => {
	n.send('socket', socket, { keepOpen: true }, mustCall((err) => {
		assert.ifError(err);
		// Still ours: it writes after the handle went.
		socket.end('still open');
	}));
}));

server.listen(0, '127.0.0.1', mustCall(() => {
	const c = net.connect(server.address().port, '127.0.0.1');
	let data = '';
	c.on('data', (d) => { data += d; });
	c.on('end', mustCall(() => {
		assert.strictEqual(data, 'still open');
		n.disconnect();
		server.close();
	}));
}));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
