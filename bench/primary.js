// SPDX-License-Identifier: ISC
// bench/primary.js: Node's own cluster primary, the reference of
// bench/run-serve. Forks N workers of the same unmodified app.js, with
// Node's scheduling from NODE_CLUSTER_SCHED_POLICY (rr or none), and
// restarts none. SIGTERM ends it and its workers.
//
//   NODE_CLUSTER_SCHED_POLICY=rr|none node primary.js N APP.js
'use strict';
const cluster = require('cluster');
const n = Number(process.argv[2]);
cluster.setupPrimary({ exec: process.argv[3], args: [] });
for (let i = 0; i < n; i++)
	cluster.fork();
process.on('SIGTERM', () => {
	for (const id in cluster.workers)
		cluster.workers[id].kill();
	process.exit(0);
});
