// SPDX-License-Identifier: ISC
// An NDJSON filter written as a plain Node IPC worker: every message
// {"n":N} comes back as {"n":2N}; anything else comes back unchanged.
//   printf '{"n":1}\n{"n":2}\n' | ipcrun run -- node examples/double.js
'use strict';

process.on('message', (m) => {
	if (m !== null && typeof m === 'object' && typeof m.n === 'number')
		m.n *= 2;
	process.send(m);
});
