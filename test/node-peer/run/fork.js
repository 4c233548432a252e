// SPDX-License-Identifier: ISC
// After test-child-process-fork.js (its child fixture): every message is
// answered with {foo:...}; the child exits by itself once the parent has
// nothing more to say.
'use strict';
process.on('message', (m) => process.send({ foo: 'bar', got: m }));
