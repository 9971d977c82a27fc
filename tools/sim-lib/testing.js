'use strict';
/*
 * Test helpers both simulators' suites use: a small HTTP client, polling,
 * temporary directories, and the simulator's command line run as a child
 * process, waited for through its --ready-file.  For tests only (node:test
 * contexts); the simulators themselves never load it.
 */

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

/*
 * Makes an HTTP request to base + p.  opts: body (an object is sent as
 * JSON, with Content-Type: application/json unless headers has one; a
 * string as it is), headers, bearer (sent as Authorization: Bearer),
 * timeoutMs.  Resolves to {status, headers, text, body} (body: the parsed
 * JSON, or null) or {error} on a socket error or timeout; never rejects.
 */
function request(base, method, p, opts) {
	const o = opts || {};
	const headers = Object.assign({}, o.headers || {});
	let payload;
	if (o.body !== undefined) {
		payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
		if (headers['Content-Type'] === undefined)
			headers['Content-Type'] = 'application/json';
	}
	if (o.bearer !== undefined)
		headers.Authorization = 'Bearer ' + o.bearer;
	return new Promise((resolve) => {
		const req = http.request(base + p, { method, headers }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let body = null;
				try {
					body = JSON.parse(text);
				} catch (e) { /* not JSON */ }
				resolve({ status: res.statusCode, headers: res.headers, text,
				    body });
			});
		});
		if (o.timeoutMs)
			req.setTimeout(o.timeoutMs, () => {
				req.destroy();
				resolve({ error: 'timeout' });
			});
		req.on('error', (e) => resolve({ error: e.code || 'error' }));
		req.end(payload);
	});
}

/*
 * Calls fn (which may be async) every 10 ms until it returns a truthy
 * value, and resolves to that value; rejects ("waitFor timed out") once
 * timeoutMs (default 2000) have passed.
 */
async function waitFor(fn, timeoutMs) {
	const end = Date.now() + (timeoutMs || 2000);
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('waitFor timed out');
		await new Promise((r) => setTimeout(r, 10));
	}
}

/*
 * Returns a fresh temporary directory named prefix + random, removed with
 * what it holds after the test t.
 */
function tmpdir(t, prefix) {
	const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	t.after(() => fs.rmSync(d, { recursive: true, force: true }));
	return d;
}

/*
 * Spawns a simulator's command line: node sim.entry with args, in this
 * process's environment with sim.env and then env over it.  Returns
 * {child, out(), err(), exited}: out() and err() are what it printed so
 * far, exited resolves to its exit code.
 */
function spawnSim(sim, args, env) {
	const child = spawn(process.execPath, [sim.entry].concat(args), {
		env: Object.assign({}, process.env, sim.env || {}, env || {}),
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '', err = '';
	child.stdout.on('data', (c) => { out += c; });
	child.stderr.on('data', (c) => { err += c; });
	const exited = new Promise((r) => child.on('exit', (code) => r(code)));
	return { child, out: () => out, err: () => err, exited };
}

/*
 * Starts a simulator as a child (spawnSim) with --port 0 and a
 * --ready-file in a fresh directory (tmpdir with sim.prefix), before
 * args; kills it (SIGKILL) after the test t; waits up to sim.timeoutMs
 * for the ready file.  sim: {entry, prefix, timeoutMs, env?}.  Returns
 * spawnSim's object and ready (the file's path), readyText (what it
 * holds), url (that, trimmed) and dir (the directory).
 */
async function startChild(t, sim, args, env) {
	const dir = tmpdir(t, sim.prefix);
	const ready = path.join(dir, 'ready');
	const s = spawnSim(sim, ['--port', '0', '--ready-file', ready]
	    .concat(args), env);
	t.after(() => s.child.kill('SIGKILL'));
	const text = await waitFor(() => fs.existsSync(ready) &&
	    fs.readFileSync(ready, 'utf8'), sim.timeoutMs);
	s.ready = ready;
	s.readyText = text;
	s.url = text.trim();
	s.dir = dir;
	return s;
}

module.exports = { request, waitFor, tmpdir, spawnSim, startChild };
