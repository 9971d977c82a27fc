'use strict';
/*
 * Test helpers: an in-process simulator with known keys, Stripe's official
 * Node client pointed at it (tools/stripe-sim/test/node_modules, pinned by
 * test/package-lock.json; `npm ci` there installs it), a small raw HTTP
 * client for what the official client would not send, and the command
 * line run as a child.  The raw client, polling and the child are
 * tools/sim-lib/testing.js, shared with cloud-sim.
 */

const path = require('node:path');
const { createSimulator } = require('../lib/server');
const { KeyStore } = require('../lib/keys');
const lib = require('../../sim-lib/testing');

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
 * Makes an HTTP request (tools/sim-lib/testing.js).  opts: headers, body
 * (object -> JSON), key (Bearer), timeoutMs.  Resolves to {status,
 * headers, text, body} or {error}.
 */
function request(base, method, p, opts) {
	return lib.request(base, method, p, Object.assign({}, opts,
	    { bearer: opts && opts.key }));
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

/* Polls fn until it returns a truthy value or timeoutMs (default 3000)
 * passes. */
function waitFor(fn, timeoutMs) {
	return lib.waitFor(fn, timeoutMs || 3000);
}

/* The command line, for lib.spawnSim and lib.startChild: the ready file
 * may take 10 s (it is written once the data is generated). */
const CLI = {
	entry: path.join(__dirname, '..', 'stripe-sim.js'),
	prefix: 'stripe-sim-test-', timeoutMs: 10000,
};

/* Returns a fresh temporary directory, removed after the test t. */
function tmpdir(t) {
	return lib.tmpdir(t, CLI.prefix);
}

/* Spawns stripe-sim.js with args; returns {child, out(), err(), exited}. */
function spawnSim(args) {
	return lib.spawnSim(CLI, args);
}

/*
 * Starts stripe-sim.js as a child on port 0 and waits for its ready file.
 * Returns spawnSim's object with ready, readyText, url and dir.
 */
function startChild(t, args) {
	return lib.startChild(t, CLI, args);
}

module.exports = { Stripe, API_VERSION, NOW, KEYS, client, request, start,
    all, rejection, waitFor, tmpdir, spawnSim, startChild };
