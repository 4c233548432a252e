// SPDX-License-Identifier: ISC
// An asynchronous worker: fetches each {"url":U} and replies with its
// status and size, in completion order. However late the last reply,
// ipcrun delivers it and exits as soon as the worker is done.
//   ipcrun run -- node examples/fetch.js < urls.ndjson > results.ndjson
'use strict';

process.on('message', async (m) => {
	const url = m && m.url;
	try {
		const res = await fetch(url);
		const body = await res.arrayBuffer();
		process.send({ url, status: res.status, bytes: body.byteLength });
	} catch (e) {
		process.send({ url, error: String(e.cause ? e.cause.code || e.cause.message : e.message) });
	}
});
