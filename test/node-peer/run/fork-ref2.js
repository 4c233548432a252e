// SPDX-License-Identifier: ISC
// After test-child-process-fork-ref2.js: a child that disconnects itself
// and adds a 'message' listener later is not kept alive by it.
'use strict';
process.disconnect();
setTimeout(() => {
	process.on('message', () => {
		console.error('a message after the disconnect');
		process.exitCode = 1;
	});
}, 400);
