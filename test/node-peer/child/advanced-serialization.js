// SPDX-License-Identifier: ISC
// After test-child-process-advanced-serialization.js: with serialization
// 'advanced', what CMD echoes comes back deep-equal for every value of the
// JSON subset; a Buffer, a Map, a Set (outside it) is reported by ipcrun
// and not delivered, and the messages after it still come.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['cat', '-'], { serialization: 'advanced' });
const values = [{ a: [1, -1, 2 ** 31, 1.5, 'é😀', null, true] }, 'x', 42];
const got = [];

n.on('message', mustCall((m) => {
	got.push(m);
	if (got.length === values.length) {
		assert.deepStrictEqual(got, values);
		n.disconnect();
	}
}, values.length));
n.send(Buffer.from('hi'));
n.send(new Map([[1, 2]]));
for (const v of values)
	n.send(v);
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
