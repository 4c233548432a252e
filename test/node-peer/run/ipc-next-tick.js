// SPDX-License-Identifier: ISC
// After test-child-process-ipc-next-tick.js, the child side: a 'message'
// listener that throws; each of the 10 messages must come once, each as
// one uncaught exception, and then the child disconnects.
'use strict';
const received = new Array(10).fill(0);
let calls = 0;

process.on('uncaughtException', (err) => {
	calls++;
	received[err]++;
	if (received.every((n) => n === 1))
		process.disconnect();
});
process.on('message', (msg) => {
	throw msg;
});
process.on('exit', () => {
	if (calls !== 10 || !received.every((n) => n === 1)) {
		console.error('received', JSON.stringify(received));
		process.exitCode = 1;
	}
});
process.send('ready');
