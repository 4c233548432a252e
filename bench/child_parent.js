// SPDX-License-Identifier: ISC
// child_parent.js: the Node parent of the `ipcrun child` benchmark.
//   node child_parent.js json|advanced N SIZE -- EXECPATH [EXECARG...]
// fork()s EXECPATH (ipcrun child -- cat, or node node_child.js echo) with
// the given serialization, sends N messages of about SIZE bytes with at
// most WINDOW in flight, checks that each comes back in order, and prints
// one JSON line: seconds, messages per second, and the peak RSS (VmHWM,
// KiB) of the direct child, read before it is disconnected.
'use strict';
const { fork } = require('child_process');
const fs = require('fs');
const [ser, nstr, sizestr, dash, execPath, ...rest] = process.argv.slice(2);
if (dash !== '--' || !execPath)
	throw new Error('usage: child_parent.js json|advanced N SIZE -- EXEC [ARG...]');
const N = Number(nstr), SIZE = Number(sizestr), WINDOW = 2000;
// For node, rest[0] is the script: fork() takes it as the module.
const isNode = /node$/.test(execPath);
const c = fork(isNode ? rest[0] : '-', isNode ? rest.slice(1) : [], {
	execPath, execArgv: isNode ? [] : rest, serialization: ser
});
const pad = 'x'.repeat(Math.max(0, SIZE - 30));
let sent = 0, got = 0;
const t0 = process.hrtime.bigint();
function pump() {
	while (sent < N && sent - got < WINDOW)
		c.send({ id: sent++, p: pad });
}
c.on('message', (m) => {
	if (m.id !== got)
		throw new Error(`message ${got} came back as ${m.id}`);
	if (++got === N) {
		const secs = Number(process.hrtime.bigint() - t0) / 1e9;
		const st = fs.readFileSync(`/proc/${c.pid}/status`, 'utf8');
		const hwm = Number(/VmHWM:\s+(\d+)/.exec(st)[1]);
		console.log(JSON.stringify({ msgs: N, size: SIZE,
		    bytes: N * JSON.stringify({ id: 0, p: pad }).length, secs,
		    msgs_per_s: Math.round(N / secs), child_hwm_KiB: hwm }));
		c.disconnect();
	} else if (got % 500 === 0)
		pump();
});
c.on('exit', (code, sig) => {
	if (code !== 0 || got !== N) {
		console.error(`child exit ${code} ${sig} after ${got} of ${N}`);
		process.exitCode = 1;
	}
});
pump();
