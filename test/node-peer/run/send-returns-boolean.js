// SPDX-License-Identifier: ISC
// After test-child-process-send-returns-boolean.js, the child sending:
// while the parent does not read, send() returns false once Node's write
// queue passes 128 KiB, and every message still arrives, in order.
'use strict';
const chunk = 'x'.repeat(64 * 1024);
const N = Number(process.argv[2]);
let first = -1;

for (let i = 0; i < N; i++) {
	if (!process.send({ i, chunk }) && first === -1)
		first = i;
}
process.send({ first });
// For the test: now it may read.
console.error('sent');
