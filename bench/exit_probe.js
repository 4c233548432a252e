// SPDX-License-Identifier: ISC
// exit_probe.js: an echo worker that records, in the file named by
// EXIT_STAMP, the CLOCK_MONOTONIC time (ns) of its own 'exit' event, so
// bench/exitlat can tell how long its parent took to notice and finish.
'use strict';
const fs = require('fs');
process.on('message', (m) => { process.send(m); });
process.on('exit', () => {
	fs.writeFileSync(process.env.EXIT_STAMP, String(process.hrtime.bigint()));
});
