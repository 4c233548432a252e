// SPDX-License-Identifier: ISC
// After test-child-process-advanced-serialization.js, the child side: the
// values it sends reach a json parent as JSON.stringify gives them.
'use strict';
process.send([Buffer.from('hi'), new Map([[1, 2]]), new Set([3]), 1.5,
    'é😀', { a: [true, null] }]);
