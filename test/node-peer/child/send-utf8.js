// SPDX-License-Identifier: ISC
// After test-child-process-send-utf8.js: a large string of multibyte
// characters (split across reads on the way) comes back unchanged.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const expected = 'ßöü'.repeat(1 << 18) + '😀\u2028';
const n = forkIpcrun(['cat', '-']);

n.on('message', mustCall((m) => {
	assert.strictEqual(m, expected);
	n.disconnect();
}));
n.send(expected);
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
