// SPDX-License-Identifier: ISC
// After test-child-process-fork.js: the parent's messages reach CMD, CMD's
// lines come back as messages, a message JSON cannot carry is refused by
// the parent itself, and the child exits 0 once disconnected.
'use strict';
const assert = require('assert');
const { forkIpcrun, mustCall } = require('./common');

const n = forkIpcrun(['sed', '-u', 's/.*/{"foo":&}/', '-']);

assert.throws(() => n.send(undefined), { code: 'ERR_MISSING_ARGS' });
assert.throws(() => n.send(Symbol()), { code: 'ERR_INVALID_ARG_TYPE' });
n.on('message', mustCall((m) => {
	assert.deepStrictEqual(m, { foo: { hello: 'world' } });
	n.disconnect();
}));
n.send({ hello: 'world' });
n.on('exit', mustCall((c) => assert.strictEqual(c, 0)));
