// SPDX-License-Identifier: ISC
// stdin_echo.js: the Node filter GNU parallel --pipe runs in bench/run-tasks:
// each NDJSON line of stdin parsed and written back, as node_child.js's
// echo does over the channel.
'use strict';
const rl = require('readline').createInterface({ input: process.stdin });
const out = [];
rl.on('line', (l) => {
	out.push(JSON.stringify(JSON.parse(l)));
	if (out.length >= 256)
		process.stdout.write(out.splice(0).join('\n') + '\n');
});
rl.on('close', () => {
	if (out.length > 0)
		process.stdout.write(out.join('\n') + '\n');
});
