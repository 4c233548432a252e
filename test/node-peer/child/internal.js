// SPDX-License-Identifier: ISC
// After test-child-process-internal.js, the parent sending: an internal
// command never reaches CMD, a message that merely contains NODE_ does;
// CMD cannot send an internal one (refused, reported by ipcrun).
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['sh', '-c',
    'echo \'{"cmd":"NODE_foobar"}\'; exec cat', '-']);

n.on('internalMessage', (m) => {
	assert.notStrictEqual(m.cmd, 'NODE_foobar');
});
n.on('message', mustCall((m) => {
	assert.deepStrictEqual(m, { cmd: 'fooNODE_foobar' });
	n.disconnect();
}));
n.send({ cmd: 'NODE_foobar' });
n.send({ cmd: 'fooNODE_foobar' });
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
