'use strict';
/*
 * Webhooks as Stripe sends them (docs.stripe.com/webhooks): endpoints
 * registered per mode, each with its own signing secret (whsec_...), and
 * events delivered to them as POSTs of the event object, pretty-printed
 * JSON, signed with
 *
 *	Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">
 *
 * keyed with the whole secret string (docs.stripe.com/webhooks#verify-
 * manually, and stripe-node's Webhooks.js, which the tests verify our
 * deliveries with).  The signing here is our own, with node:crypto.
 *
 * What makes events:
 *  - /_sim/activity: charge.succeeded or charge.failed per charge,
 *    charge.refunded per refund (the charge), charge.dispute.created per
 *    dispute, payout.created per payout, and one balance.available when
 *    the activity changed the available balance;
 *  - the clock: a payout that arrives becomes paid (payout.paid, then
 *    payout.reconciliation_completed: every payout here is automatic, and
 *    Stripe reconciles automatic payouts), one that fails, payout.failed;
 *    the history generated before an endpoint was registered sends
 *    nothing;
 *  - /_sim/webhooks/send: one event of a given type now.
 *
 * A delivery that does not answer 2xx within 10 s is tried again after
 * 1, 2 and 4 seconds (Stripe retries for up to three days with an
 * exponential backoff; ours is short, for tests and the demo).  Event ids
 * come from node:crypto, never from the account's seeded generator, so
 * the data an account makes is the same with endpoints or without.
 * Endpoints may only be on a loopback host: the simulator never talks to
 * the network.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const api = require('./api');
const { BASE62 } = require('./rng');

const TIMEOUT_MS = 10000;
const RETRY_MS = [1000, 2000, 4000];
const LOG_MAX = 200;
const MAX_ENDPOINTS = 16;

/* The event types /_sim/webhooks/send makes, and what they are about. */
const SENDABLE = {
	'balance.available': 'balance',
	'charge.succeeded': 'charge',
	'charge.failed': 'charge',
	'charge.refunded': 'charge',
	'charge.dispute.created': 'dispute',
	'charge.dispute.closed': 'dispute',
	'payout.created': 'payout',
	'payout.paid': 'payout',
	'payout.failed': 'payout',
	'payout.reconciliation_completed': 'payout',
};

/* Returns n random base62 characters (node:crypto). */
function randomTag(n) {
	let s = '';
	for (const b of crypto.randomBytes(n))
		s += BASE62[b % 62];
	return s;
}

/* Returns the Stripe-Signature header for body under secret at t. */
function signature(secret, t, body) {
	const v1 = crypto.createHmac('sha256', secret).update(t + '.' + body,
	    'utf8').digest('hex');
	return 't=' + t + ',v1=' + v1;
}

/* Is host a loopback name or address? */
function loopback(host) {
	const h = host.replace(/^\[|\]$/g, '');
	return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/* Returns the secret shown masked: its prefix and last four. */
function masked(secret) {
	return 'whsec_...' + secret.slice(-4);
}

class Webhooks {
	/*
	 * sim: {world(mode), clock(), log(line)}.  The clock watcher starts
	 * with the first endpoint; stop() ends it.
	 */
	constructor(sim) {
		this.sim = sim;
		this.endpoints = [];
		this.deliveries = [];
		this.sent = 0;
		/* Payout statuses last seen, per mode: id -> status. */
		this.seen = { test: null, live: null };
		this.timer = null;
		this.pending = new Set();
		this.inFlight = 0;
		this.stopped = false;
	}

	/*
	 * POST /_sim/webhooks {url, secret?, ca_file?, mode?, enabled_events?}:
	 * registers an endpoint.  Returns {endpoint} (with its secret, as
	 * Stripe shows it on creation) or {error}.
	 */
	register(body) {
		for (const k of Object.keys(body))
			if (!['url', 'secret', 'ca_file', 'mode',
			    'enabled_events'].includes(k))
				return { error: 'unknown field ' + k };
		const mode = body.mode === undefined ? 'test' : body.mode;
		if (mode !== 'test' && mode !== 'live')
			return { error: 'mode must be test or live' };
		let u;
		try {
			u = new URL(body.url);
		} catch (e) {
			return { error: 'url must be an http or https URL' };
		}
		if ((u.protocol !== 'http:' && u.protocol !== 'https:') ||
		    u.username !== '' || u.password !== '' || u.hash !== '')
			return { error: 'url must be an http or https URL without ' +
			    'credentials or fragment' };
		if (!loopback(u.hostname))
			return { error: 'url must be on a loopback host (the ' +
			    'simulator never calls the network)' };
		const secret = body.secret === undefined ? 'whsec_' + randomTag(32) :
		    body.secret;
		if (typeof secret !== 'string' ||
		    !/^whsec_[A-Za-z0-9+/_-]{16,200}={0,2}$/.test(secret))
			return { error: 'secret must be whsec_ and 16 or more ' +
			    'base64 characters' };
		let ca;
		if (body.ca_file !== undefined) {
			if (typeof body.ca_file !== 'string' || u.protocol !== 'https:')
				return { error: 'ca_file is the path of a PEM file, for ' +
				    'an https url' };
			try {
				ca = fs.readFileSync(body.ca_file, 'utf8');
			} catch (e) {
				return { error: 'ca_file cannot be read: ' + e.code };
			}
			if (!ca.includes('-----BEGIN CERTIFICATE-----'))
				return { error: 'ca_file holds no PEM certificate' };
		}
		let events = ['*'];
		if (body.enabled_events !== undefined) {
			const ev = body.enabled_events;
			if (!Array.isArray(ev) || ev.length < 1 || ev.length > 64 ||
			    !ev.every((x) => typeof x === 'string' &&
			    /^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/.test(x)))
				return { error: 'enabled_events must be event types, ' +
				    '"type.*" or "*"' };
			events = ev.slice();
		}
		if (this.endpoints.length >= MAX_ENDPOINTS)
			return { error: 'at most ' + MAX_ENDPOINTS + ' endpoints' };
		const ep = { id: 'we_' + randomTag(24), object: 'webhook_endpoint',
		    url: u.href, mode, enabled_events: events, secret, ca,
		    created: this.sim.clock() };
		this.endpoints.push(ep);
		if (this.seen[mode] === null)
			this.snapshot(mode);
		this.watch();
		return { endpoint: this.show(ep, true) };
	}

	/* An endpoint as the control API shows it. */
	show(ep, withSecret) {
		return { id: ep.id, object: ep.object, url: ep.url, mode: ep.mode,
		    enabled_events: ep.enabled_events, created: ep.created,
		    secret: withSecret ? ep.secret : masked(ep.secret),
		    ca_file: ep.ca !== undefined };
	}

	/* GET /_sim/webhooks: the endpoints (secrets masked), the deliveries. */
	state() {
		return { endpoints: this.endpoints.map((ep) => this.show(ep, false)),
		    events_sent: this.sent, in_flight: this.inFlight,
		    retries_pending: this.pending.size,
		    deliveries: this.deliveries };
	}

	/* POST /_sim/webhooks/reset: no endpoints, an empty log. */
	reset() {
		this.endpoints = [];
		this.deliveries = [];
		this.sent = 0;
		this.seen = { test: null, live: null };
		for (const p of this.pending)
			clearTimeout(p);
		this.pending.clear();
	}

	/* The accounts were generated again: their history sends nothing. */
	rebuilt() {
		for (const mode of ['test', 'live'])
			if (this.seen[mode] !== null)
				this.snapshot(mode);
	}

	/* Notes every payout's status now, without an event. */
	snapshot(mode) {
		const world = this.sim.world(mode);
		const clock = this.sim.clock();
		const seen = new Map();
		for (const po of world.lists.payouts)
			seen.set(po.id, world.viewPayout(po, clock).status);
		this.seen[mode] = seen;
	}

	/* Starts the clock watcher (once a second, not keeping node up). */
	watch() {
		if (this.timer !== null || this.stopped)
			return;
		this.timer = setInterval(() => this.tick(), 1000);
		this.timer.unref();
	}

	/* Stops the watcher and every retry. */
	stop() {
		this.stopped = true;
		if (this.timer !== null)
			clearInterval(this.timer);
		this.timer = null;
		for (const p of this.pending)
			clearTimeout(p);
		this.pending.clear();
	}

	/* Payouts that arrived or failed since the last look: their events. */
	tick() {
		for (const mode of ['test', 'live']) {
			const seen = this.seen[mode];
			if (seen === null || !this.endpoints.some((e) => e.mode === mode))
				continue;
			const world = this.sim.world(mode);
			const clock = this.sim.clock();
			for (const po of world.lists.payouts) {
				const now = world.viewPayout(po, clock);
				const was = seen.get(po.id);
				if (was === now.status)
					continue;
				seen.set(po.id, now.status);
				if (was === undefined)
					this.emit(world, 'payout.created', now);
				if (now.status === 'paid') {
					this.emit(world, 'payout.paid', now);
					if (po.automatic)
						this.emit(world, 'payout.reconciliation_completed',
						    now);
				} else if (now.status === 'failed')
					this.emit(world, 'payout.failed', now);
			}
		}
	}

	/*
	 * After /_sim/activity in world: the events of the objects made since
	 * seq (world.seq before it).
	 */
	activity(world, seq) {
		if (!this.endpoints.some((e) => e.mode === world.mode))
			return;
		const clock = this.sim.clock();
		const fresh = (o) => world.metaOf(o).seq >= seq;
		let available = false;
		const made = [];
		for (const r of ['charges', 'refunds', 'disputes', 'payouts',
		    'balance_transactions'])
			for (const o of world.lists[r])
				if (fresh(o))
					made.push(o);
		made.sort((a, b) => world.metaOf(a).seq - world.metaOf(b).seq);
		for (const o of made) {
			switch (o.object) {
			case 'charge':
				this.emit(world, o.status === 'succeeded' ?
				    'charge.succeeded' : 'charge.failed', o);
				break;
			case 'refund':
				this.emit(world, 'charge.refunded', world.get(o.charge));
				break;
			case 'dispute':
				this.emit(world, 'charge.dispute.created',
				    world.view(o, clock));
				break;
			case 'payout': {
				const v = world.viewPayout(o, clock);
				if (this.seen[world.mode] !== null)
					this.seen[world.mode].set(o.id, v.status);
				this.emit(world, 'payout.created', v);
				break;
			}
			case 'balance_transaction':
				available = available || o.available_on <= clock;
				break;
			}
		}
		if (available)
			this.emit(world, 'balance.available', this.balance(world));
	}

	/* The account's balance now, as GET /v1/balance answers it. */
	balance(world) {
		return api.balance({ world, clock: this.sim.clock() }, '');
	}

	/*
	 * POST /_sim/webhooks/send {type, mode?, object?}: one event now,
	 * about object (an id), or the newest object that fits the type.
	 * Resolves to {status, body}: the event and its first attempts.
	 */
	async send(body) {
		for (const k of Object.keys(body))
			if (!['type', 'mode', 'object'].includes(k))
				return bad('unknown field ' + k);
		const mode = body.mode === undefined ? 'test' : body.mode;
		if (mode !== 'test' && mode !== 'live')
			return bad('mode must be test or live');
		const kind = SENDABLE[body.type];
		if (kind === undefined)
			return bad('type must be one of ' +
			    Object.keys(SENDABLE).join(', '));
		const world = this.sim.world(mode);
		const clock = this.sim.clock();
		let obj;
		if (kind === 'balance') {
			if (body.object !== undefined)
				return bad('balance.available is about the balance: no ' +
				    'object');
			obj = this.balance(world);
		} else if (body.object !== undefined) {
			const o = typeof body.object === 'string' ?
			    world.get(body.object) : undefined;
			if (o === undefined || o.object !== kind)
				return bad('object must be the id of a ' + kind + ' of ' +
				    'the ' + mode + ' account');
			obj = world.view(o, clock);
		} else {
			obj = this.newest(world, body.type, clock);
			if (obj === null)
				return bad('the ' + mode + ' account has no ' + kind +
				    ' for ' + body.type);
		}
		if (!this.endpoints.some((e) => e.mode === mode))
			return bad('no ' + mode + '-mode endpoint: register one with ' +
			    'POST /_sim/webhooks');
		const { event, attempts } = this.emit(world, body.type, obj);
		const results = await Promise.all(attempts);
		return { status: 200, body: { event: { id: event.id,
		    type: event.type, object: obj.id || null }, deliveries: results } };
	}

	/* The newest object type fits (a paid payout for payout.paid...). */
	newest(world, type, clock) {
		const kind = SENDABLE[type];
		const list = world.list(kind + 's');
		const fits = (o) => {
			const v = world.view(o, clock);
			switch (type) {
			case 'charge.succeeded':
				return v.status === 'succeeded';
			case 'charge.failed':
				return v.status === 'failed';
			case 'charge.refunded':
				return v.amount_refunded > 0;
			case 'payout.paid':
			case 'payout.reconciliation_completed':
				return v.status === 'paid' && v.automatic;
			case 'payout.failed':
				return v.status === 'failed';
			default:
				return true;
			}
		};
		const o = list.find(fits);
		return o === undefined ? null : world.view(o, clock);
	}

	/*
	 * Makes an event of type about obj in world and delivers it to every
	 * endpoint of the mode that takes the type.  Returns {event,
	 * attempts}: a promise per endpoint of its first attempt's result.
	 */
	emit(world, type, obj) {
		const event = {
			api_version: api.API_VERSION,
			created: this.sim.clock(),
			data: { object: obj },
			id: 'evt_' + randomTag(24),
			livemode: world.livemode,
			object: 'event',
			pending_webhooks: 0,
			request: { id: null, idempotency_key: null },
			type,
		};
		const targets = this.endpoints.filter((ep) => ep.mode === world.mode &&
		    ep.enabled_events.some((p) => p === '*' || p === type ||
		    (p.endsWith('.*') && type.startsWith(p.slice(0, -1)))));
		event.pending_webhooks = targets.length;
		this.sent++;
		const attempts = targets.map((ep) => new Promise((resolve) =>
		    this.deliver(ep, event, 1, resolve)));
		return { event, attempts };
	}

	/* One attempt of event to ep; done(result) after the first. */
	deliver(ep, event, attempt, done) {
		const body = JSON.stringify(event, null, 2);
		const t = Math.floor(Date.now() / 1000);
		const u = new URL(ep.url);
		const lib = u.protocol === 'https:' ? https : http;
		const started = Date.now();
		const opts = {
			method: 'POST',
			timeout: TIMEOUT_MS,
			headers: {
				'Content-Type': 'application/json; charset=utf-8',
				'Content-Length': Buffer.byteLength(body),
				'Stripe-Signature': signature(ep.secret, t, body),
				'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
				'Cache-Control': 'no-cache',
				Accept: '*/*; q=0.5, application/xml',
			},
		};
		if (ep.ca !== undefined)
			opts.ca = ep.ca;
		let finished = false;
		this.inFlight++;
		const finish = (status, error) => {
			if (finished)
				return;
			finished = true;
			this.inFlight--;
			const r = { at: t, event: event.id, type: event.type,
			    endpoint: ep.id, attempt, status, ms: Date.now() - started };
			if (error !== undefined)
				r.error = error;
			this.deliveries.push(r);
			if (this.deliveries.length > LOG_MAX)
				this.deliveries.shift();
			const ok = status >= 200 && status < 300;
			if (!ok && attempt <= RETRY_MS.length && !this.stopped &&
			    this.endpoints.includes(ep)) {
				const timer = setTimeout(() => {
					this.pending.delete(timer);
					this.deliver(ep, event, attempt + 1, () => {});
				}, RETRY_MS[attempt - 1]);
				timer.unref();
				this.pending.add(timer);
			}
			if (!ok)
				this.sim.log('webhook ' + event.type + ' ' + event.id +
				    ' to ' + ep.id + ': attempt ' + attempt + ' ' +
				    (error !== undefined ? error : 'HTTP ' + status));
			done(r);
		};
		const req = lib.request(u, opts, (res) => {
			res.resume();
			res.on('end', () => finish(res.statusCode));
			res.on('error', (e) => finish(0, e.code || e.message));
		});
		req.on('timeout', () => {
			req.destroy();
			finish(0, 'timeout');
		});
		req.on('error', (e) => finish(0, e.code || e.message));
		req.end(body);
	}
}

/* Returns a 400 answer. */
function bad(message) {
	return { status: 400, body: { error: message } };
}

module.exports = { Webhooks, signature, SENDABLE };
