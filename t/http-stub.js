// t/http-stub.js: a scripted HTTP server on loopback for the outbound
// client's tests (t5000).  No dependencies.
//
//   node t/http-stub.js READY_FILE
//
// Listens on 127.0.0.1 (a free port), writes "http://127.0.0.1:PORT\n" to
// READY_FILE once listening.  Every request is answered by the next step of
// the script (POST /_stub/script with a JSON array of steps), or, when the
// script is empty, 200 {"data":[],"total":0}.  A step:
//   {"status": 429, "headers": {"Retry-After": "1"}, "body": {...} | "text"}
//   {"stall": true}            never answer (the client must give up)
//   {"reset": true}            destroy the connection without an answer
//   {"big": 5242880}           a 200 body of that many bytes
// GET /_stub/log  -> {"requests": [{method, url, authorization}], "connections": N}
// POST /_stub/reset forgets the log, the script and the count.
// SIGTERM stops it.
'use strict';
const http = require('http');
const fs = require('fs');

const ready = process.argv[2];
let script = [];
let requests = [];
let connections = 0;
const stalled = new Set();

function send(res, status, body, headers) {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, Object.assign({ 'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(text) }, headers || {}));
	res.end(text);
}

const server = http.createServer((req, res) => {
	let chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		if (req.url === '/_stub/log')
			return send(res, 200, { requests, connections });
		if (req.url === '/_stub/reset' && req.method === 'POST') {
			script = []; requests = []; connections = 0;
			return send(res, 200, { ok: true });
		}
		if (req.url === '/_stub/script' && req.method === 'POST') {
			script = script.concat(JSON.parse(body));
			return send(res, 200, { queued: script.length });
		}
		requests.push({ method: req.method, url: req.url,
			authorization: req.headers.authorization || null,
			content_type: req.headers['content-type'] || null,
			stripe_version: req.headers['stripe-version'] || null, body });
		const step = script.shift() || {};
		if (step.stall) {
			stalled.add(res);
			return;
		}
		if (step.reset)
			return req.socket.destroy();
		if (step.big)
			return send(res, 200, 'x'.repeat(step.big));
		send(res, step.status || 200,
			step.body !== undefined ? step.body : { data: [], total: 0 },
			step.headers);
	});
});
server.on('connection', (sock) => {
	// The control calls come from curl in the tests: count only the
	// client under test, which is not curl.
	sock.once('data', (d) => {
		if (!/\r\nUser-Agent: curl\//i.test(d.toString('latin1')))
			connections++;
	});
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
	const url = `http://127.0.0.1:${server.address().port}`;
	fs.writeFileSync(ready + '.tmp', url + '\n');
	fs.renameSync(ready + '.tmp', ready);
});
function stop() {
	for (const r of stalled)
		r.socket && r.socket.destroy();
	server.close(() => process.exit(0));
	server.closeAllConnections && server.closeAllConnections();
	setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
