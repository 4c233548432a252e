// SPDX-License-Identifier: ISC
// What the parents share: fork `ipcrun child -- CMD...` as Node would
// fork a module, and fail the test (exit 1) on a broken expectation or a
// callback that never came.
'use strict';
const { fork } = require('child_process');

const pending = new Set();

exports.forkIpcrun = function forkIpcrun(cmd, opts = {}) {
	// fork(module) runs execPath execArgv module: CMD's last word stands
	// in for the module.
	return fork(cmd[cmd.length - 1], [], {
		execPath: process.env.IPCRUN,
		execArgv: ['child', '--', ...cmd.slice(0, -1)],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		...opts,
	});
};

// mustCall(fn, n): fn must be called exactly n times before the exit.
exports.mustCall = function mustCall(fn = () => {}, n = 1) {
	const c = { name: fn.name || '<anonymous>', n, calls: 0 };
	pending.add(c);
	return function (...args) {
		c.calls++;
		return fn.apply(this, args);
	};
};

process.on('exit', () => {
	for (const c of pending) {
		if (c.calls !== c.n) {
			console.error(`${c.name}: called ${c.calls} times, not ${c.n}`);
			process.exitCode = 1;
		}
	}
});
