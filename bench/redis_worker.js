// SPDX-License-Identifier: ISC
// bench/run-redis's worker behind ipcrun run --tasks: a task in, its
// answer out, on Node's IPC channel.
'use strict';
process.on('message', m => process.send({ done: m.i }));
