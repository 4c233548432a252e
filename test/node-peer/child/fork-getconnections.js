// SPDX-License-Identifier: ISC
// After test-child-process-fork-getconnections.js: sockets of a server
// sent to the child are counted through NODE_SOCKET_GET_COUNT, and
// server.close() waits for NODE_SOCKET_ALL_CLOSED. ipcrun child answers
// both at once: the count is 0 (it keeps no socket), and neither callback
// hangs.
'use strict';
const assert = require('assert');
const net = require('net');
const { forkIpcrun, mustCall } = require('./common');

// CMD answers nothing: with no 'message' listener, a message arriving
// as the parent disconnects crashes Node's own parent (README).
const n = forkIpcrun(['sh', '-c', 'cat > /dev/null', '-']);
const count = 3;
let sent = 0;
const server = net.createServer(mustCall((socket) => {
	n.send('socket', socket, mustCall((err) => {
		assert.ifError(err);
		if (++sent < count)
			return;
		server.getConnections(mustCall((err2, k) => {
			assert.ifError(err2);
			assert.strictEqual(k, 0);
			server.close(mustCall(() => n.disconnect()));
		}));
	}));
}, count));

server.listen(0, '127.0.0.1', mustCall(() => {
	for (let i = 0; i < count; i++)
		net.connect(server.address().port, '127.0.0.1').on('error', () => {});
}));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
