// SPDX-License-Identifier: ISC
// node_child.js: the Node child the relay benchmarks run, under ipcrun or
// under bench/cparent. Mode from argv[2]:
//   echo  process.send(m) for every message
//   count count messages; write "count N" to stderr when the process exits
'use strict';
const mode = process.argv[2] || 'echo';
if (mode === 'count') {
	let n = 0;
	process.on('message', () => { n++; });
	process.on('exit', () => { process.stderr.write('count ' + n + '\n'); });
	process.on('disconnect', () => {});
} else {
	process.on('message', (m) => { process.send(m); });
}
