// SPDX-License-Identifier: ISC
// After test-child-process-send-cb.js: the callback of send() gets null
// once the message is written.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-']);

assert.strictEqual(n.send('ok', mustCall((err) => {
	assert.strictEqual(err, null);
})), true);
n.on('message', mustCall((m) => {
	assert.strictEqual(m, 'ok');
	n.disconnect();
}));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
