// SPDX-License-Identifier: ISC
// After test-child-process-disconnect.js, the parent side: 'disconnect'
// comes on a later tick with connected false, a second disconnect() is an
// error, and the child ends by itself, without a signal.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-']);
let inside = false;

n.on('disconnect', mustCall(() => {
	assert.strictEqual(inside, false, 'emitted inside disconnect()');
	assert.strictEqual(n.connected, false);
}));
n.on('message', mustCall(() => {
	inside = true;
	n.disconnect();
	inside = false;
	assert.throws(() => n.disconnect(), { code: 'ERR_IPC_DISCONNECTED' });
}));
n.send('ready');
n.on('exit', mustCall((code, sig) => {
	assert.strictEqual(code, 0);
	assert.strictEqual(sig, null);
}));
