// SPDX-License-Identifier: ISC
// workerpool_worker.js: the worker bench/run-tasks gives workerpool (npm),
// the same echo as node_child.js: a task's message comes back as it is.
'use strict';
const workerpool = require('workerpool');
workerpool.worker({ echo: (m) => m });
