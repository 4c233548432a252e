// SPDX-License-Identifier: ISC
// After test-child-process-advanced-serialization-largebuffer.js: four
// 8 MB messages (strings: a Buffer is outside the JSON subset) each way.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-'], { serialization: 'advanced' });
const big = 'z'.repeat(8 * 1024 * 1024);
let got = 0;

n.on('message', mustCall((m) => {
	assert.strictEqual(m.length, big.length);
	assert.strictEqual(m, big);
	if (++got === 4)
		n.disconnect();
}, 4));
for (let i = 0; i < 4; i++)
	n.send(big);
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
