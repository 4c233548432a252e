// SPDX-License-Identifier: ISC
// After test-child-process-advanced-serialization-splitted-length-field.js:
// ten 65521-byte messages from the child, whose 4-byte length fields fall
// across the parent's 64 KiB reads; then the child exits at once. All ten
// come. (spawn with an 'ipc' slot, as the original.)
'use strict';
const assert = require('assert');
const { spawn } = require('child_process');
const { mustCall } = require('./common');

const line = JSON.stringify('w'.repeat(65521 - 3));
const n = spawn(process.env.IPCRUN, ['child', '--', 'sh', '-c',
    `for i in 1 2 3 4 5 6 7 8 9 10; do printf '%s\\n' '${line}'; done`], {
	stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
	serialization: 'advanced',
});

n.on('message', mustCall((m) => assert.strictEqual(m.length, 65521 - 3), 10));
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
