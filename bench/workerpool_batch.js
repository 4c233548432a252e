// SPDX-License-Identifier: ISC
// workerpool_batch.js: the batch of bench/run-tasks done with workerpool
// (npm, pinned in bench/run-tasks) from a Node script, as its users write
// it: each stdin line JSON.parse'd into a task, pool.exec('echo'), each
// result written as a JSON line to stdout as it comes. argv[2]: the
// workers (4); argv[3]: process (child processes, as ipcrun's) or thread
// (worker_threads, workerpool's default in Node). At most INFLIGHT
// (1000) tasks are submitted at once, so the pool's queue stays bounded
// as ipcrun's does.
'use strict';
const path = require('path');
const readline = require('readline');
const workerpool = require('workerpool');
const n = Number(process.argv[2] || 4);
const type = process.argv[3] || 'process';
const max = Number(process.env.INFLIGHT || 1000);
const pool = workerpool.pool(path.join(__dirname, 'workerpool_worker.js'),
    { minWorkers: n, maxWorkers: n, workerType: type });
const rl = readline.createInterface({ input: process.stdin });
let inflight = 0, ended = false, out = [], failed = 0;

function flush() {
	if (out.length > 0) {
		process.stdout.write(out.join(''));
		out = [];
	}
}
function maybeEnd() {
	if (ended && inflight === 0) {
		flush();
		pool.terminate().then(() => process.exit(failed > 0 ? 1 : 0));
	}
}
rl.on('line', (line) => {
	if (line === '')
		return;
	inflight++;
	if (inflight >= max)
		rl.pause();
	pool.exec('echo', [JSON.parse(line)]).then((m) => {
		out.push(JSON.stringify(m) + '\n');
		if (out.length >= 256)
			flush();
	}, (e) => {
		failed++;
		process.stderr.write('workerpool_batch: ' + e + '\n');
	}).then(() => {
		inflight--;
		if (inflight < max / 2)
			rl.resume();
		maybeEnd();
	});
});
rl.on('close', () => { ended = true; maybeEnd(); });
