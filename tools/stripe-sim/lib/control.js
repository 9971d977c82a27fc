'use strict';
/*
 * The JSON control API under /_sim/, for tests, tools/demo and scripts:
 * more activity, faults, the request log, a summary of the data, keys,
 * the rate limiter, regeneration, webhook endpoints and events
 * (lib/webhooks.js).
 *
 * A web page must not drive it: a POST needs Content-Type:
 * application/json (which a cross-site form cannot send without a CORS
 * preflight, and the simulator answers none) and is refused with a
 * foreign Origin.  The frame (method, refusal, body) is
 * tools/sim-lib/control.js, shared with cloud-sim; that a POST without
 * that Content-Type is refused is ours.
 */

const { readBody, parseJsonObject, sendJson } = require('./http-util');
const { ControlApi, mediaType, foreignOrigin } =
    require('../../sim-lib/control');
const { activity } = require('./generate');
const { RESOURCE_OF } = require('./world');

/* Returns true when a POST could have come from another site. */
function crossSite(req, origins) {
	return foreignOrigin(req, origins) ||
	    mediaType(req) !== 'application/json';
}

/* Returns the mode named by a body or query value (default test), or
 * null when it is neither test nor live. */
function modeOf(v) {
	if (v === undefined || v === null)
		return 'test';
	return v === 'test' || v === 'live' ? v : null;
}

/* Returns the summary of one mode's data at clock. */
function summary(world, clock) {
	const counts = {};
	for (const r of Object.values(RESOURCE_OF))
		counts[r] = world.lists[r].length;
	const byType = {}, byCurrency = {};
	for (const bt of world.lists.balance_transactions) {
		byType[bt.type] = (byType[bt.type] || 0) + 1;
		byCurrency[bt.currency] = (byCurrency[bt.currency] || 0) + 1;
	}
	const net = {}, available = {}, pending = {};
	let holds = true;
	for (const [c, b] of world.balances(clock)) {
		net[c] = b.net;
		available[c] = b.available;
		pending[c] = b.pending;
		holds = holds && b.available + b.pending === b.net;
	}
	const charges = world.lists.charges;
	const tally = (list, f) => {
		const o = {};
		for (const x of list)
			o[f(x)] = (o[f(x)] || 0) + 1;
		return o;
	};
	return {
		mode: world.mode, account: world.accountId, clock, counts,
		balance_transactions: { by_type: byType, by_currency: byCurrency },
		net_by_currency: net,
		balance: { available, pending },
		balance_equals_sum_of_nets: holds,
		charges: {
			by_status: tally(charges, (c) => c.status),
			guests: charges.filter((c) => c.customer === null).length,
			multi_currency: charges.filter((c) => c.balance_transaction &&
			    world.get(c.balance_transaction).currency !== c.currency)
			    .length,
		},
		customers: {
			with_blnk_balance: world.lists.customers.filter((c) =>
			    c.metadata.blnk_balance !== undefined).length,
		},
		disputes: { by_status: tally(world.lists.disputes, (d) => d.status) },
		payouts: { by_status: tally(world.lists.payouts, (p) =>
		    world.viewPayout(p, clock).status) },
	};
}

class Control extends ControlApi {
	/* sim: see lib/server.js (worlds, keys, faults, limiter, requests,
	 * clock(), origins(), regenerate()). */
	constructor(sim) {
		super(sim, { sendJson, readBody, parseJsonObject,
		    crossSite: (req) => crossSite(req, sim.origins()) });
	}

	/* Writes {status, body}, pretty as Stripe's answers are. */
	answer(res, r) {
		sendJson(res, r.status, r.body, undefined, true);
	}

	/* Returns {status, body} for a GET. */
	get(name, params) {
		const sim = this.sim;
		switch (name) {
		case 'health':
			return { status: 200, body: { ok: true } };
		case 'requests':
			return { status: 200, body: sim.requests.state() };
		case 'faults':
			return { status: 200, body: sim.faults.state() };
		case 'keys':
			return { status: 200, body: sim.keys.summary() };
		case 'rate':
			return { status: 200, body: sim.limiter.state() };
		case 'config':
			return { status: 200, body: sim.config() };
		case 'webhooks':
			return { status: 200, body: sim.webhooks.state() };
		case 'summary': {
			const mode = modeOf(params.get('mode') === null ? undefined :
			    params.get('mode'));
			if (mode === null)
				return bad('mode must be test or live');
			return { status: 200, body: summary(sim.world(mode),
			    sim.clock()) };
		}
		default:
			return { status: 404, body: { error: 'no such control call' } };
		}
	}

	/* Returns {status, body} for a POST. */
	post(name, body) {
		const sim = this.sim;
		switch (name) {
		case 'activity': {
			const mode = modeOf(body.mode);
			if (mode === null)
				return bad('mode must be test or live');
			const n = body.count;
			if (!Number.isInteger(n) || n < 1 || n > 100000)
				return bad('count must be an integer 1..100000');
			const world = sim.world(mode);
			const t = sim.clock();
			const seq = world.seq;
			const added = activity(world, n, t);
			sim.webhooks.activity(world, seq);
			return { status: 200, body: { mode, created: t, added,
			    balance_transactions: world.btCount } };
		}
		case 'faults': {
			const msg = sim.faults.set(body);
			return msg === null ? { status: 200, body: sim.faults.state() } :
			    bad(msg);
		}
		case 'requests/reset':
			sim.requests.reset();
			return { status: 200, body: sim.requests.state() };
		case 'keys': {
			const mode = modeOf(body.mode);
			if (mode === null)
				return bad('mode must be test or live');
			const msg = sim.keys.add(mode, body.key, body.resources);
			return msg === null ? { status: 200, body: sim.keys.summary() } :
			    bad(msg);
		}
		case 'rate': {
			for (const m of ['test', 'live'])
				if (body[m] !== undefined && (!Number.isInteger(body[m]) ||
				    body[m] < 0 || body[m] > 100000))
					return bad(m + ' must be an integer 0..100000 ' +
					    '(requests a second; 0 is off)');
			for (const m of ['test', 'live'])
				if (body[m] !== undefined)
					sim.limiter.setRate(m, body[m]);
			return { status: 200, body: sim.limiter.state() };
		}
		case 'reset': {
			const msg = sim.regenerate(body);
			return msg === null ? { status: 200, body: sim.config() } :
			    bad(msg);
		}
		case 'webhooks': {
			const r = sim.webhooks.register(body);
			return r.error !== undefined ? bad(r.error) :
			    { status: 200, body: r.endpoint };
		}
		case 'webhooks/send':
			return sim.webhooks.send(body);
		case 'webhooks/reset':
			sim.webhooks.reset();
			return { status: 200, body: sim.webhooks.state() };
		default:
			return { status: 404, body: { error: 'no such control call' } };
		}
	}
}

/* Returns a 400 answer. */
function bad(message) {
	return { status: 400, body: { error: message } };
}

module.exports = { Control, crossSite, summary };
