'use strict';
/*
 * Test helpers: an in-process simulator with known keys, Stripe's official
 * Node client pointed at it (tools/stripe-sim/test/node_modules, pinned by
 * test/package-lock.json; `npm ci` there installs it), and a small raw
 * HTTP client for what the official client would not send.
 */

const http = require('node:http');
const path = require('node:path');
const { createSimulator } = require('../lib/server');
const { KeyStore } = require('../lib/keys');

const TEST_DIR = path.join(__dirname, '..', 'test');
let StripeClass;
try {
	StripeClass = require(require.resolve('stripe', { paths: [TEST_DIR] }));
} catch (e) {
	throw new Error('the stripe npm package is not installed: run ' +
	    '`npm ci` in tools/stripe-sim/test');
}
const Stripe = StripeClass.Stripe || StripeClass;

const API_VERSION = '2022-11-15';
/* A fixed "now" (2023-11-14T22:13:20Z): the data is the same every run. */
const NOW = 1700000000;
const KEYS = {
	test: 'sk_test_' + 'T'.repeat(20) + 'test',
	live: 'sk_live_' + 'L'.repeat(20) + 'live',
	restricted: 'rk_test_' + 'R'.repeat(20) + 'rsrc',
	restrictedLive: 'rk_live_' + 'Q'.repeat(20) + 'rliv',
};

/* Returns Stripe's client for key against base (http://127.0.0.1:port). */
function client(base, key, extra) {
	const u = new URL(base);
	return new Stripe(key, Object.assign({
		host: u.hostname, port: Number(u.port), protocol: 'http',
		apiVersion: API_VERSION, maxNetworkRetries: 0, telemetry: false,
	}, extra || {}));
}

/*
 * Makes an HTTP request.  opts: headers, body (object -> JSON), key (Bearer),
 * timeoutMs.  Resolves to {status, headers, text, body} or {error}.
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
	if (o.key !== undefined)
		headers.Authorization = 'Bearer ' + o.key;
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
 * Starts an in-process simulator (rate limiter off unless opts.rates, now
 * fixed at NOW unless given) with the KEYS: the restricted test key may
 * read only balance_transactions and balance.  Returns {sim, base,
 * stripe (test key), live, ctl(name, body), get(path, key), raw(...),
 * close()}.
 */
async function start(opts) {
	const keys = new KeyStore();
	keys.add('test', KEYS.test);
	keys.add('live', KEYS.live);
	keys.add('test', KEYS.restricted, ['balance_transactions', 'balance']);
	keys.add('live', KEYS.restrictedLive);
	const logs = [];
	const sim = createSimulator(Object.assign({ now: NOW, keys,
	    rates: { test: 0, live: 0 }, log: (l) => logs.push(l) }, opts || {}));
	const base = await sim.start();
	return {
		sim, base, logs,
		stripe: client(base, KEYS.test),
		live: client(base, KEYS.live),
		client: (key, extra) => client(base, key, extra),
		ctl: (name, body) => request(base, 'POST', '/_sim/' + name,
		    { body: body || {} }),
		get: (p, key) => request(base, 'GET', p,
		    { key: key === undefined ? KEYS.test : key === null ? undefined :
		    key, headers: { 'Stripe-Version': API_VERSION } }),
		raw: (method, p, o) => request(base, method, p, o),
		close: () => sim.stop(),
	};
}

/* Returns every item of a list through the client's auto-pagination. */
async function all(listPromise) {
	const out = [];
	for await (const x of listPromise)
		out.push(x);
	return out;
}

/* Returns the error a promise rejects with (fails if it resolves). */
async function rejection(p) {
	try {
		await p;
	} catch (e) {
		return e;
	}
	throw new Error('expected the call to fail');
}

/* Polls fn until it returns a truthy value or timeoutMs passes. */
async function waitFor(fn, timeoutMs) {
	const end = Date.now() + (timeoutMs || 3000);
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('waitFor timed out');
		await new Promise((r) => setTimeout(r, 10));
	}
}

module.exports = { Stripe, API_VERSION, NOW, KEYS, client, request, start,
    all, rejection, waitFor };
