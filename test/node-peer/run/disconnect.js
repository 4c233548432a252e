// SPDX-License-Identifier: ISC
// After test-child-process-disconnect.js, the child side: when the parent
// disconnects, 'disconnect' comes on a later tick, with connected false;
// nothing else keeps the child alive, so it ends by itself.
'use strict';
let sync = true;

process.on('disconnect', () => {
	console.error('disconnect', sync ? 'sync' : 'async', process.connected);
});
process.on('message', () => {});
process.send('ready');
setImmediate(() => { sync = false; });
