// SPDX-License-Identifier: ISC
// bench/app.js: the one HTTP server of bench/run-serve, unmodified under
// every primary (ipcrun serve, Node's cluster, pm2) and alone. It listens
// on $PORT (on $HOST if set, else all interfaces, as a plain app does) and answers every request
// with 12 bytes. Once listening it appends its pid to $READY_FILE, if set,
// so the bench waits for every worker instead of sleeping.
'use strict';
const http = require('http');
const fs = require('fs');
const body = 'hello world\n';
const server = http.createServer((req, res) => {
	res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
	res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.env.PORT), process.env.HOST, () => {
	if (process.env.READY_FILE)
		fs.appendFileSync(process.env.READY_FILE, process.pid + '\n');
});
