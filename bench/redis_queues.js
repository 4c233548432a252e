// SPDX-License-Identifier: ISC
// bench/run-redis's Node side of the queues ipcrun is measured against,
// with the same work as bench/redis_worker.js (answer {"done": i}):
//
//   node redis_queues.js bullmq|rsmq work SOCK CONC   a worker process
//   node redis_queues.js bullmq|rsmq produce SOCK N   enqueue N jobs
//   node redis_queues.js rsmq setup SOCK              create its queues
//
// The modules come from NODE_PATH (build/bench/bullmq or rsmq, installed
// by bench/run-redis at pinned versions). A worker prints "ready" once it
// can take jobs; the producer prints nothing and exits once all are in.
'use strict';
const [kind, role, sock, arg] = process.argv.slice(2);
const pad = 'x'.repeat(80);
const INFLIGHT = 256;	// the producer's window, as ipcrun pub's

async function bullmq() {
	const { Queue, Worker } = require('bullmq');
	const connection = { path: sock, maxRetriesPerRequest: null };
	if (role === 'work') {
		const w = new Worker('bench', async job => ({ done: job.data.i }),
		    { connection, concurrency: Number(arg) });
		await w.waitUntilReady();
		console.log('ready');
		return;
	}
	const q = new Queue('bench', { connection });
	const n = Number(arg);
	for (let i = 1; i <= n; i += INFLIGHT) {
		const jobs = [];
		for (let j = i; j < i + INFLIGHT && j <= n; j++)
			jobs.push({ name: 't', data: { i: j, pad } });
		await q.addBulk(jobs);
	}
	await q.close();
}

async function rsmq() {
	const redis = require('redis');
	const RedisSMQ = require('rsmq');
	const q = new RedisSMQ({ client: redis.createClient({ path: sock }) });
	if (role === 'setup') {
		for (const qname of ['jobs', 'res'])
			await q.createQueueAsync({ qname, vt: 30 });
		q.quit();
		return;
	}
	q.setMaxListeners(0);	// each waiting call listens for its script
	if (role === 'work') {
		await q.getQueueAttributesAsync({ qname: 'jobs' });
		const loop = async () => {
			for (;;) {
				const m = await q.receiveMessageAsync({ qname: 'jobs' });
				if (!m.id) {	// rsmq cannot block: poll
					await new Promise(r => setTimeout(r, 2));
					continue;
				}
				const d = JSON.parse(m.message);
				await q.sendMessageAsync({ qname: 'res',
				    message: JSON.stringify({ done: d.i }) });
				await q.deleteMessageAsync({ qname: 'jobs', id: m.id });
			}
		};
		console.log('ready');
		for (let c = 0; c < Number(arg); c++)
			loop();
		return;
	}
	const n = Number(arg);
	for (let i = 1; i <= n; i += INFLIGHT) {
		const p = [];
		for (let j = i; j < i + INFLIGHT && j <= n; j++)
			p.push(q.sendMessageAsync({ qname: 'jobs',
			    message: JSON.stringify({ i: j, pad }) }));
		await Promise.all(p);
	}
	q.quit();
}

(kind === 'bullmq' ? bullmq : rsmq)().catch(e => {
	console.error(`redis_queues.js ${kind} ${role}: ${e.message}`);
	process.exit(1);
});
