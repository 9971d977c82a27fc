'use strict';
/*
 * The simulator's HTTP server: one listener on 127.0.0.1 serving Stripe's
 * read API (/v1/...) and the control API (/_sim/...).
 *
 * A /v1 call goes through, in order: authentication (401), injected
 * faults, the rate limiter (429), the Stripe-Version check (400), the
 * route (404), the method (only GET is modelled), the restricted key's
 * permissions (403), the parameters (400), the answer.  Every answer
 * carries a Request-Id and Stripe-Version: 2022-11-15, and every call is
 * counted in the request log.
 */

const crypto = require('node:crypto');
const api = require('./api');
const errors = require('./errors');
const cur = require('./currencies');
const { generate } = require('./generate');
const { KeyStore } = require('./keys');
const { Faults, RateLimiter } = require('./limits');
const { Control } = require('./control');
const { Webhooks } = require('./webhooks');
const { sendJson } = require('./http-util');
const { BASE62 } = require('./rng');
const { HOST, LocalServer } = require('../../sim-lib/server');

const DEFAULT_CURRENCIES = ['usd', 'eur', 'gbp', 'jpy', 'kwd'];
const MAX_COUNT = 200000;

/* Returns a request id like Stripe's (req_ + 14 characters). */
function requestId() {
	let s = 'req_';
	for (const b of crypto.randomBytes(14))
		s += BASE62[b % 62];
	return s;
}

/*
 * Checks the data options {seed, count, currencies, now} (any may be
 * missing).  Returns null or a message.
 */
function checkData(d) {
	if (d.seed !== undefined && (typeof d.seed !== 'string' ||
	    d.seed.length < 1 || d.seed.length > 200))
		return 'seed must be a string of 1..200 characters';
	if (d.count !== undefined && (!Number.isInteger(d.count) ||
	    d.count < 0 || d.count > MAX_COUNT))
		return 'count must be an integer 0..' + MAX_COUNT;
	if (d.currencies !== undefined) {
		const c = d.currencies;
		if (!Array.isArray(c) || c.length < 1 || c.length > 20 ||
		    new Set(c).size !== c.length ||
		    !c.every((x) => typeof x === 'string' && cur.isSupported(x)))
			return 'currencies must be 1..20 different lower-case ' +
			    'currency codes Stripe supports';
	}
	if (d.now !== undefined && (!Number.isSafeInteger(d.now) || d.now < 0))
		return 'now must be a unix time in seconds';
	return null;
}

/* The request log: calls per route and mode, the Stripe-Version headers
 * seen, statuses, and the last 200 calls. */
class RequestLog {
	constructor() {
		this.reset();
	}

	reset() {
		this.total = 0;
		this.paths = {};
		this.versions = {};
		this.statuses = {};
		this.recent = [];
	}

	/* Records {method, pattern, url, mode, version, status}. */
	record(r) {
		this.total++;
		const p = this.paths[r.pattern] || (this.paths[r.pattern] =
		    { test: 0, live: 0, none: 0 });
		p[r.mode]++;
		const v = r.version === undefined ? '(none)' : r.version;
		this.versions[v] = (this.versions[v] || 0) + 1;
		this.statuses[r.status] = (this.statuses[r.status] || 0) + 1;
		this.recent.push(r);
		if (this.recent.length > 200)
			this.recent.shift();
	}

	state() {
		return { total: this.total, paths: this.paths,
		    stripe_versions: this.versions, statuses: this.statuses,
		    recent: this.recent };
	}
}

/*
 * Creates a simulator (not yet listening).  opts:
 *   port         0 picks a free port
 *   seed, count, currencies   what to generate (default "stripe-sim",
 *                300, usd eur gbp jpy kwd)
 *   now          the generator's now and the clock's start (unix seconds;
 *                default: real time); the clock then runs in real time
 *   keys         a KeyStore (default: empty; add keys with /_sim/keys)
 *   rates        {test, live} requests a second (default 25 and 100; 0 off)
 *   log(line)    log sink (default stderr)
 * Returns {start(), stop(), url(), world(mode), keys, faults, limiter,
 * requests, clock()}.
 */
function createSimulator(opts) {
	const o = Object.assign({ port: 0, seed: 'stripe-sim', count: 300,
	    currencies: DEFAULT_CURRENCIES }, opts || {});
	const msg = checkData(o);
	if (msg !== null)
		throw new Error(msg);
	const log = o.log || ((line) => process.stderr.write('stripe-sim: ' +
	    line + '\n'));
	const startMs = Date.now();
	const clock = () => o.now !== undefined ?
	    o.now + Math.floor((Date.now() - startMs) / 1000) :
	    Math.floor(Date.now() / 1000);
	const keys = o.keys || new KeyStore();
	const faults = new Faults();
	const limiter = new RateLimiter(o.rates);
	const requests = new RequestLog();
	const data = { seed: o.seed, count: o.count,
	    currencies: o.currencies.slice(), now: o.now };
	let worlds = {};
	/* The listener (tools/sim-lib/server.js): a bad target is 400, an
	 * internal error Stripe's 500. */
	const server = new LocalServer(route, { sendJson,
		log: (e) => log('internal error: ' + String(e && e.stack)),
		internalBody: () => errors.serverError().body(),
	});

	/* Generates both modes' accounts from data. */
	const build = () => {
		const started = Date.now();
		const now = data.now !== undefined ? data.now : clock();
		worlds = {};
		for (const mode of ['test', 'live'])
			worlds[mode] = generate({ mode, seed: data.seed,
			    count: data.count, currencies: data.currencies, now });
		log('generated ' + data.count + ' balance transactions a mode ' +
		    'from seed ' + JSON.stringify(data.seed) + ' in ' +
		    (Date.now() - started) + ' ms');
	};
	build();
	/* Signed event deliveries (lib/webhooks.js). */
	const webhooks = new Webhooks({ world: (mode) => worlds[mode], clock,
	    log });

	const sim = {
		keys, faults, limiter, requests, clock, webhooks,
		world: (mode) => worlds[mode],
		origins: () => server.origins(),
		config: () => ({ seed: data.seed, count: data.count,
		    currencies: data.currencies, now: data.now === undefined ?
		    null : data.now, clock: clock(), api_version: api.API_VERSION,
		    rate: limiter.state(),
		    accounts: { test: worlds.test.accountId,
		    live: worlds.live.accountId } }),
		/* POST /_sim/reset {seed?, count?, currencies?}: regenerate. */
		regenerate: (body) => {
			for (const k of Object.keys(body))
				if (!['seed', 'count', 'currencies'].includes(k))
					return 'unknown field ' + k;
			const m = checkData(body);
			if (m !== null)
				return m;
			Object.assign(data, body);
			build();
			webhooks.rebuilt();
			faults.clear();
			return null;
		},
	};
	const control = new Control(sim);

	/* Returns the key record of the call's Authorization; throws 401. */
	function authenticate(req) {
		const h = req.headers.authorization;
		if (h === undefined || h.trim() === '')
			throw errors.missingKey();
		let key;
		const bearer = /^Bearer(?: +(.*))?$/i.exec(h);
		const basic = /^Basic +([A-Za-z0-9+/=]*)$/i.exec(h);
		if (bearer !== null)
			key = bearer[1] === undefined ? '' : bearer[1];
		else if (basic !== null) {
			const s = Buffer.from(basic[1], 'base64').toString('utf8');
			key = s.includes(':') ? s.slice(0, s.indexOf(':')) : s;
		} else
			key = h;
		if (key === '')
			throw errors.missingKey();
		if (/^pk_(test|live)_/.test(key))
			throw new errors.ApiError(401, { type: 'invalid_request_error',
			    message: 'This API call cannot be made with a publishable ' +
			    'API key. Please use a secret API key. You can find a list ' +
			    'of your API keys at https://dashboard.stripe.com/account/' +
			    'apikeys.' });
		const k = keys.lookup(key);
		if (k === undefined)
			throw errors.invalidKey(key);
		return k;
	}

	/* Checks a Stripe-Version header; throws 400 for any but ours. */
	function checkVersion(v) {
		if (v === undefined || v === api.API_VERSION)
			return;
		let message = 'Invalid Stripe API version: ' + v;
		if (/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(v))
			message += ' (stripe-sim serves only ' + api.API_VERSION +
			    ', the version of its fixtures)';
		throw errors.invalid(message, undefined, undefined);
	}

	/* Answers a call under /v1. */
	function v1(req, res, url) {
		const reqId = requestId();
		const r = api.route(url.pathname);
		const rec = { at: clock(), method: req.method,
		    pattern: r ? r.pattern : '(unrecognized)',
		    url: url.pathname + url.search, mode: 'none',
		    version: req.headers['stripe-version'], status: 0 };
		const headers = { 'Request-Id': reqId,
		    'Stripe-Version': api.API_VERSION };
		let world = null;
		req.resume();
		try {
			const key = authenticate(req);
			rec.mode = key.mode;
			world = worlds[key.mode];
			const fault = faults.take(url.pathname);
			if (fault === 'stall') {
				rec.fault = 'stall';
				requests.record(rec);
				return;
			}
			if (fault === '429')
				throw errors.rateLimited();
			if (fault === 'lock_timeout')
				throw errors.lockTimeout();
			if (fault === '500')
				throw errors.serverError();
			if (!limiter.take(key.mode))
				throw errors.rateLimited();
			checkVersion(rec.version);
			if (r === null)
				throw errors.unrecognizedUrl(req.method, url.pathname);
			if (req.method !== 'GET')
				throw errors.invalid('stripe-sim does not model ' +
				    req.method + ' ' + url.pathname + ': it serves the ' +
				    'read calls only.');
			const ctx = {
				world, clock: clock(),
				other: worlds[key.mode === 'test' ? 'live' : 'test'],
				allow: (resource) => {
					if (key.resources !== null && !key.resources.has(resource))
						throw errors.permission(key.key, world.accountId,
						    api.RESOURCES[resource].perm);
				},
			};
			const body = api.answer(ctx, r, url.search.slice(1));
			rec.status = 200;
			sendJson(res, 200, body, headers, true);
		} catch (e) {
			if (!(e instanceof errors.ApiError))
				throw e;
			rec.status = e.status;
			const logUrl = world === null ? undefined :
			    'https://dashboard.stripe.com/' + (world.livemode ? '' :
			    'test/') + 'logs/' + reqId + '?t=' + clock();
			sendJson(res, e.status, e.body(logUrl),
			    Object.assign(headers, e.headers), true);
		}
		requests.record(rec);
	}

	/* Routes one request to url. */
	async function route(req, res, url) {
		const p = url.pathname;
		if (Control.owns(p))
			return control.handle(req, res, url);
		if (p === '/v1' || p.startsWith('/v1/'))
			return v1(req, res, url);
		req.resume();
		const e = errors.unrecognizedUrl(req.method, p);
		return sendJson(res, 404, e.body(), { 'Request-Id': requestId() },
		    true);
	}

	return {
		keys, faults, limiter, requests, clock, webhooks,
		world: sim.world,
		config: sim.config,

		/* Starts listening; resolves to the base URL. */
		start() {
			return server.start(o.port);
		},

		/* Returns the base URL (after start). */
		url() {
			return server.url();
		},

		/* Stops: drops every connection, stalled ones too, and every
		 * webhook retry. */
		stop() {
			webhooks.stop();
			return server.stop();
		},
	};
}

module.exports = { createSimulator, checkData, HOST, DEFAULT_CURRENCIES,
    MAX_COUNT, RequestLog };
