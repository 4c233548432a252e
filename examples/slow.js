// SPDX-License-Identifier: ISC
// An asynchronous worker: each reply comes after a delay (default 0-20 ms,
// or the message's "delay" in ms). ipcrun still delivers every reply and
// exits as soon as the last one is out.
//   seq 5 | ipcrun run -- node examples/slow.js
'use strict';

process.on('message', (m) => {
	const ms = m !== null && typeof m === 'object' &&
	    typeof m.delay === 'number' ? m.delay : Math.random() * 20;
	setTimeout(() => process.send(m), ms);
});
