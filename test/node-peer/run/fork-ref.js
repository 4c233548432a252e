// SPDX-License-Identifier: ISC
// After test-child-process-fork-ref.js: a child with 'message' and
// 'disconnect' listeners stays alive until it is disconnected, and its
// handler then runs.
'use strict';
process.on('message', (m) => process.send(m));
process.on('disconnect', () => console.error('disconnected'));
