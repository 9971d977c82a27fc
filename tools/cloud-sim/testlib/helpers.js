'use strict';
/*
 * Test helpers: a fake app that records what Cloud sends it and can be
 * told to fail or be slow, an in-process simulator wired to it, a
 * small HTTP client, and the command line run as a child.  The client,
 * polling and the child are tools/sim-lib/testing.js, shared with
 * stripe-sim.
 */

const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const { createSimulator } = require('../lib/server');
const lib = require('../../sim-lib/testing');

/* The tests' own manifest: the repo's, with three of the four scopes, so
 * that a scope the manifest does not request exists to be refused. */
const MANIFEST = path.join(__dirname, '..', 'test', 'fixtures',
    'manifest-three-scopes.json');
const SECRET = 'cb_' + crypto.randomBytes(24).toString('hex');

/* Reads a request body as text. */
function bodyText(req) {
	return new Promise((resolve) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
	});
}

/*
 * Starts a fake app on 127.0.0.1:0.  It answers POST /api/callback/SECRET
 * and POST /api/portal/SECRET; app.behave.callback / app.behave.portal
 * ({status, delayMs, body}) change the answers.  app.calls records
 * {kind, headers, body}.
 */
async function startFakeApp() {
	const app = { calls: [], behave: { callback: {}, portal: {} } };
	const server = http.createServer(async (req, res) => {
		const text = await bodyText(req);
		const m = /^\/api\/(callback|portal)\/(.+)$/.exec(req.url);
		if (req.method !== 'POST' || m === null || m[2] !== SECRET) {
			res.writeHead(404).end();
			return;
		}
		let body = null;
		try {
			body = JSON.parse(text);
		} catch (e) { /* recorded as null */ }
		app.calls.push({ kind: m[1], headers: req.headers, body });
		const b = app.behave[m[1]];
		if (b.delayMs)
			await new Promise((r) => setTimeout(r, b.delayMs));
		if (res.destroyed)
			return;
		const answer = b.body !== undefined ? b.body : m[1] === 'portal' ?
		    { portal_url: app.url + '/?token=tok' + app.calls.length } :
		    { ok: true };
		const out = typeof answer === 'string' ? answer :
		    JSON.stringify(answer);
		res.writeHead(b.status || 200,
		    { 'Content-Type': 'application/json' });
		res.end(out);
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	app.url = 'http://127.0.0.1:' + server.address().port;
	app.of = (kind) => app.calls.filter((c) => c.kind === kind);
	app.stop = () => new Promise((r) => {
		server.close(() => r());
		server.closeAllConnections();
	});
	return app;
}

/*
 * Makes an HTTP request (tools/sim-lib/testing.js).  opts: body (object
 * -> JSON, string as is), headers, token (Bearer), timeoutMs.  Resolves
 * to {status, headers, text, body} (body is parsed JSON or null), or
 * {error} on a socket error or timeout.
 */
function request(base, method, p, opts) {
	return lib.request(base, method, p, Object.assign({}, opts,
	    { bearer: opts && opts.token }));
}

/*
 * Starts a fake app and a registered in-process simulator pointing at it.
 * Returns {app, sim, base, ctl(name, body), get(path), call(method, path,
 * opts), close()}.
 */
async function setup(simOpts) {
	const app = await startFakeApp();
	const logs = [];
	const sim = createSimulator(Object.assign({
		manifestPath: MANIFEST, appBase: app.url, callbackSecret: SECRET,
		allowHttp: true, callbackTimeoutMs: 2000, queueDelayMs: 10,
		exposeKeys: true, log: (l) => logs.push(l),
	}, simOpts || {}));
	const base = await sim.start();
	const env = {
		app, sim, base, logs,
		ctl: (name, body) => request(base, 'POST', '/_sim/' + name,
		    { body: body || {} }),
		get: (p) => request(base, 'GET', p),
		call: (method, p, opts) => request(base, method, p, opts),
		close: async () => {
			await sim.stop();
			await app.stop();
		},
	};
	const r = await env.ctl('register');
	if (r.status !== 200)
		throw new Error('register failed: ' + r.text);
	return env;
}

/*
 * Installs with the given scopes and returns {id, inst, key, prefix,
 * q(path)} where q appends ?instance_id=<inst> (or &instance_id=).
 */
async function installed(env, scopes) {
	const r = await env.ctl('install', scopes ? { scopes } : {});
	if (r.status !== 200)
		throw new Error('install failed: ' + r.text);
	const inst = r.body.instance_id;
	return {
		id: r.body.installed_app_id, inst, key: r.body.api_key,
		prefix: r.body.api_key_prefix,
		q: (p) => p + (p.includes('?') ? '&' : '?') + 'instance_id=' + inst,
	};
}

/* Polls fn until it returns a truthy value or timeoutMs (default 2000)
 * passes. */
function waitFor(fn, timeoutMs) {
	return lib.waitFor(fn, timeoutMs || 2000);
}

/*
 * The command line, for lib.spawnSim and lib.startChild: the ready file
 * may take 5 s, and the child does not see the secret or key exposure
 * this process's environment may hold.
 */
const CLI = {
	entry: path.join(__dirname, '..', 'cloud-sim.js'),
	prefix: 'cloud-sim-test-', timeoutMs: 5000,
	env: { CLOUD_SIM_CALLBACK_SECRET: '', CLOUD_SIM_EXPOSE_KEYS: '' },
};

/* Returns a fresh temporary directory, removed after the test t. */
function tmpdir(t) {
	return lib.tmpdir(t, CLI.prefix);
}

/*
 * Spawns cloud-sim.js with args (env over CLI.env).  Returns {child,
 * out(), err(), exited} where exited resolves to the exit code.
 */
function spawnSim(args, env) {
	return lib.spawnSim(CLI, args, env);
}

/*
 * Starts cloud-sim.js as a child on port 0 and waits for its ready file.
 * Returns spawnSim's object with ready, readyText, url and dir.
 */
function startChild(t, args, env) {
	return lib.startChild(t, CLI, args, env);
}

module.exports = { MANIFEST, SECRET, startFakeApp, request, setup,
    installed, waitFor, tmpdir, spawnSim, startChild };
