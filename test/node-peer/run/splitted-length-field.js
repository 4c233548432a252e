// SPDX-License-Identifier: ISC
// After test-child-process-advanced-serialization-splitted-length-field.js
// (json here: run is always a json parent): ten 65521-byte messages, each
// sent from the previous one's callback, then process.exit() on the next
// tick. All ten must arrive.
'use strict';
const msg = 'y'.repeat(65521);
let cnt = 10;

(function send() {
	if (cnt--)
		process.send(msg, send);
	else
		process.nextTick(() => process.exit(0));
})();
