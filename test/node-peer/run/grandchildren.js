// SPDX-License-Identifier: ISC
// Not a Node test: the difference it shows is ipcrun's (README). The child
// starts two grandchildren, one in its process group and one detached (a
// session of its own), says their pids, and exits.
'use strict';
const { spawn } = require('child_process');

const inGroup = spawn('sleep', ['300'], { stdio: 'ignore' });
const detached = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
inGroup.unref();
detached.unref();
process.send({ inGroup: inGroup.pid, detached: detached.pid });
