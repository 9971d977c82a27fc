'use strict';
/*
 * The read API under /v1/ (docs.stripe.com/api, version 2022-11-15): lists
 * with Stripe's shape and cursors, retrieval by id, expand[], and the
 * balance.  Everything here works on one World (one mode of the account)
 * and a clock (unix seconds) that decides what is pending and what has
 * arrived.
 *
 * Lists (docs.stripe.com/api/pagination):
 *   {"object": "list", "data": [...], "has_more": bool, "url": "/v1/..."}
 * newest first; limit 1..100 (default 10); starting_after gives the
 * objects after (older than) the cursor, ending_before those just before
 * (newer than) it, still newest first, has_more saying whether more lie
 * beyond the page away from the cursor; only one of the two; a cursor
 * that is not an object of that list is 400 resource_missing naming the
 * parameter.  Filters apply first; a cursor works even when its object
 * does not match them (it is a position).
 */

const errors = require('./errors');
const { parseParams, inRange } = require('./params');
const { RESOURCE_OF } = require('./world');
const { conform, template } = require('./shapes');

const API_VERSION = '2022-11-15';

/* The balance transaction types of the 2022-11-15 reference. */
const BT_TYPES = ['adjustment', 'advance', 'advance_funding',
    'anticipation_repayment', 'application_fee', 'application_fee_refund',
    'charge', 'connect_collection_transfer', 'contribution',
    'issuing_authorization_hold', 'issuing_authorization_release',
    'issuing_dispute', 'issuing_transaction', 'payment',
    'payment_failure_refund', 'payment_refund', 'payout', 'payout_cancel',
    'payout_failure', 'refund', 'refund_failure', 'reserve_transaction',
    'reserved_funds', 'stripe_fee', 'stripe_fx_fee', 'tax_fee', 'topup',
    'topup_reversal', 'transfer', 'transfer_cancel', 'transfer_failure',
    'transfer_refund'];

const LIST = { created: 'range', ending_before: 'string', expand: 'expand',
    limit: 'limit', starting_after: 'string' };

/*
 * The resources: their object kind, the name Stripe's "No such ..."
 * message uses, the parameters of their list call (the reference's), and
 * the permission a restricted key needs (Stripe's permission names are
 * not all documented; these follow its rak_<object>_read pattern).
 */
const RESOURCES = {
	balance_transactions: {
		kind: 'balance_transaction', name: 'balance transaction',
		perm: 'rak_balance_read',
		params: Object.assign({ currency: 'currency', payout: 'string',
		    source: 'string', type: BT_TYPES }, LIST),
	},
	charges: {
		kind: 'charge', name: 'charge', perm: 'rak_charge_read',
		params: Object.assign({ customer: 'string', payment_intent: 'string',
		    transfer_group: 'string' }, LIST),
	},
	payment_intents: {
		kind: 'payment_intent', name: 'payment_intent',
		perm: 'rak_payment_intent_read',
		params: Object.assign({ customer: 'string' }, LIST),
	},
	refunds: {
		kind: 'refund', name: 'refund', perm: 'rak_refund_read',
		params: Object.assign({ charge: 'string', payment_intent: 'string' },
		    LIST),
	},
	disputes: {
		kind: 'dispute', name: 'dispute', perm: 'rak_dispute_read',
		params: Object.assign({ charge: 'string', payment_intent: 'string' },
		    LIST),
	},
	payouts: {
		kind: 'payout', name: 'payout', perm: 'rak_payout_read',
		params: Object.assign({ arrival_date: 'range', destination: 'string',
		    status: ['pending', 'paid', 'failed', 'canceled'] }, LIST),
	},
	customers: {
		kind: 'customer', name: 'customer', perm: 'rak_customer_read',
		params: Object.assign({ email: 'string', test_clock: 'string' },
		    LIST),
	},
	balance: { kind: 'balance', name: 'balance', perm: 'rak_balance_read' },
};

/*
 * What expand[] may expand, per object kind: the field and what it
 * becomes.  A kind name: the object with that id; 'any': whatever object
 * the id names; 'refunds': the charge's refunds as a list (2022-11-15 no
 * longer includes them unexpanded); null: expandable in Stripe but always
 * null here; 'absent': Stripe could expand it but the simulator does not
 * model that object (400 saying so).
 */
const EXPANDABLE = {
	balance_transaction: { source: 'any' },
	charge: { application: null, application_fee: null,
	    balance_transaction: 'balance_transaction', customer: 'customer',
	    failure_balance_transaction: 'balance_transaction', invoice: null,
	    on_behalf_of: null, payment_intent: 'payment_intent',
	    payment_method: 'absent', refunds: 'refunds', review: null,
	    source_transfer: null },
	payment_intent: { application: null, customer: 'customer',
	    invoice: null, latest_charge: 'charge', on_behalf_of: null,
	    payment_method: 'absent', review: null },
	refund: { balance_transaction: 'balance_transaction', charge: 'charge',
	    payment_intent: 'payment_intent', source_transfer_reversal: null,
	    transfer_reversal: null },
	dispute: { charge: 'charge', payment_intent: 'payment_intent' },
	payout: { balance_transaction: 'balance_transaction',
	    destination: 'absent',
	    failure_balance_transaction: 'balance_transaction',
	    original_payout: 'payout', reversed_by: 'payout' },
	customer: { default_source: null, test_clock: null },
	balance: {},
};

/*
 * The context of one call: {world, other (the other mode's world, only
 * to say "a similar object exists in live mode"), clock, allow(resource)
 * (throws 403 for a restricted key without it)}.
 */

/* Returns the "; a similar object exists in ..." tail Stripe adds when an
 * id belongs to the other mode. */
function otherModeTail(ctx, id) {
	if (ctx.other === null || ctx.other.get(id) === undefined)
		return '';
	const m = ctx.world.mode;
	const o = m === 'test' ? 'live' : 'test';
	return '; a similar object exists in ' + o + ' mode, but a ' + m +
	    ' mode key was used to make this request.';
}

/* Returns the stored object of kind with this id; throws resource_missing
 * (status 404 for a retrieve, 400 for a cursor or filter). */
function find(ctx, res, id, param, status) {
	const o = ctx.world.get(id);
	if (o === undefined || o.object !== res.kind)
		throw errors.noSuch(res.name, id, param, status,
		    o === undefined ? otherModeTail(ctx, id) : '');
	return o;
}

/* Returns the "cannot be expanded" error for a path. */
function cannotExpand(path) {
	return errors.invalid('This property cannot be expanded (' + path +
	    ').', 'expand');
}

/* Returns a charge's refunds as Stripe's sub-list (newest first, ten). */
function refundsList(ctx, ch) {
	const all = ctx.world.list('refunds').filter((r) => r.charge === ch.id);
	return { object: 'list', data: all.slice(0, 10), has_more: all.length > 10,
	    url: '/v1/charges/' + ch.id + '/refunds' };
}

/* Puts obj's keys in the fixture's order (after adding refunds). */
function reorder(kind, obj) {
	const out = {};
	for (const k of Object.keys(template(kind)))
		if (k in obj)
			out[k] = obj[k];
	return out;
}

/*
 * Expands segs (a path split at dots) in obj, a copy of an object of kind
 * that may be changed.  Returns the (possibly new) object.
 */
function expandIn(ctx, obj, kind, segs, path) {
	const field = segs[0];
	const spec = (EXPANDABLE[kind] || {})[field];
	if (spec === undefined || !(field in obj || spec === 'refunds'))
		throw cannotExpand(path);
	if (spec === 'absent')
		throw errors.invalid('This property cannot be expanded (' + path +
		    '): stripe-sim does not model the objects it names.', 'expand');
	let out = obj;
	if (spec === 'refunds') {
		if (!('refunds' in obj)) {
			ctx.allow('refunds');
			out = reorder('charge', Object.assign({}, obj,
			    { refunds: refundsList(ctx, obj) }));
		}
	} else if (typeof obj[field] === 'string') {
		const target = ctx.world.get(obj[field]);
		if (target === undefined)
			throw new Error('dangling id ' + obj[field]);
		if (spec !== 'any' && target.object !== spec)
			throw new Error(field + ' names a ' + target.object);
		ctx.allow(RESOURCE_OF[target.object]);
		obj[field] = Object.assign({}, ctx.world.view(target, ctx.clock));
	}
	if (segs.length === 1 || out[field] === null)
		return out;
	const val = out[field];
	if (val.object === 'list') {
		if (segs[1] !== 'data' || segs.length === 2)
			throw cannotExpand(path);
		const copy = Object.assign({}, val);
		copy.data = val.data.map((x) => expandIn(ctx,
		    Object.assign({}, ctx.world.view(x, ctx.clock)), x.object,
		    segs.slice(2), path));
		out[field] = copy;
		return out;
	}
	out[field] = expandIn(ctx, val, val.object, segs.slice(1), path);
	return out;
}

/* Checks an expand path's depth (Stripe allows four levels). */
function checkDepth(path) {
	if (path.split('.').length > 4)
		throw errors.invalid('You cannot expand more than 4 levels of a ' +
		    'property. Property: ' + path, 'expand');
}

/* Returns one object as served: its view at the clock, expanded. */
function present(ctx, obj, paths) {
	let out = Object.assign({}, ctx.world.view(obj, ctx.clock));
	for (const p of paths) {
		checkDepth(p);
		out = expandIn(ctx, out, obj.object, p.split('.'), p);
	}
	return out;
}

/* Index of the first item in items (created descending) whose created is
 * <= t (items.length if none). */
function firstAtOrBefore(items, t) {
	let lo = 0, hi = items.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (items[mid].created <= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Index of obj in items (sorted by world.compare). */
function indexOf(world, items, obj) {
	let lo = 0, hi = items.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (world.compare(items[mid], obj) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (items[lo] !== obj)
		throw new Error('cursor not in its list');
	return lo;
}

/* Returns the predicate of a list call's filters (besides created). */
function filterOf(ctx, resource, q) {
	const tests = [];
	const eq = (field, name) => {
		if (q[name] !== undefined)
			tests.push((o) => o[field] === q[name]);
	};
	switch (resource) {
	case 'balance_transactions':
		eq('currency', 'currency');
		eq('type', 'type');
		eq('source', 'source');
		if (q.payout !== undefined) {
			const po = find(ctx, RESOURCES.payouts, q.payout, 'payout', 400);
			if (!po.automatic)
				throw errors.invalid('Balance transaction history can only ' +
				    'be filtered on automatic transfers, not manual.',
				    'payout');
			const items = new Set(ctx.world.payoutItems(po));
			tests.push((o) => items.has(o));
		}
		break;
	case 'charges':
		eq('customer', 'customer');
		eq('payment_intent', 'payment_intent');
		eq('transfer_group', 'transfer_group');
		break;
	case 'payment_intents':
		eq('customer', 'customer');
		break;
	case 'refunds':
	case 'disputes':
		eq('charge', 'charge');
		eq('payment_intent', 'payment_intent');
		break;
	case 'payouts':
		eq('destination', 'destination');
		if (q.arrival_date !== undefined)
			tests.push((o) => inRange(o.arrival_date, q.arrival_date));
		if (q.status !== undefined)
			tests.push((o) => ctx.world.viewPayout(o, ctx.clock).status ===
			    q.status);
		break;
	case 'customers':
		eq('email', 'email');
		eq('test_clock', 'test_clock');
		break;
	default:
		break;
	}
	return (o) => tests.every((f) => f(o));
}

/* Answers GET /v1/<resource> (a list). */
function list(ctx, resource, search) {
	const res = RESOURCES[resource];
	const q = parseParams(search, res.params);
	if (q.starting_after !== undefined && q.ending_before !== undefined)
		throw errors.invalid('You may only specify one of these ' +
		    'parameters: ending_before, starting_after.', 'ending_before');
	const limit = q.limit === undefined ? 10 : q.limit;
	const expand = q.expand || [];
	for (const p of expand) {
		checkDepth(p);
		const segs = p.split('.');
		if (segs[0] !== 'data' || segs.length < 2)
			throw cannotExpand(p);
	}
	const world = ctx.world;
	const items = world.list(resource);
	let lo = 0, hi = items.length;
	const c = q.created;
	if (c !== undefined) {
		let max = Infinity, min = -Infinity;
		if (c.eq !== undefined)
			max = min = c.eq;
		if (c.lte !== undefined)
			max = Math.min(max, c.lte);
		if (c.lt !== undefined)
			max = Math.min(max, c.lt - 1);
		if (c.gte !== undefined)
			min = Math.max(min, c.gte);
		if (c.gt !== undefined)
			min = Math.max(min, c.gt + 1);
		lo = firstAtOrBefore(items, max);
		hi = firstAtOrBefore(items, min - 1);
	}
	if (q.starting_after !== undefined)
		lo = Math.max(lo, indexOf(world, items, find(ctx, res,
		    q.starting_after, 'starting_after', 400)) + 1);
	if (q.ending_before !== undefined)
		hi = Math.min(hi, indexOf(world, items, find(ctx, res,
		    q.ending_before, 'ending_before', 400)));
	const match = filterOf(ctx, resource, q);
	const picked = [];
	if (q.ending_before !== undefined) {
		for (let i = hi - 1; i >= lo && picked.length <= limit; i--)
			if (match(items[i]))
				picked.push(items[i]);
	} else
		for (let i = lo; i < hi && picked.length <= limit; i++)
			if (match(items[i]))
				picked.push(items[i]);
	const hasMore = picked.length > limit;
	const page = picked.slice(0, limit);
	if (q.ending_before !== undefined)
		page.reverse();
	const paths = expand.map((p) => p.slice('data.'.length));
	return {
		object: 'list',
		data: page.map((o) => present(ctx, o, paths)),
		has_more: hasMore,
		url: '/v1/' + resource,
	};
}

/* Answers GET /v1/<resource>/<id>. */
function retrieve(ctx, resource, id, search) {
	const res = RESOURCES[resource];
	const q = parseParams(search, { expand: 'expand' });
	const obj = find(ctx, res, id, 'id', 404);
	return present(ctx, obj, q.expand || []);
}

/*
 * Answers GET /v1/balance: per currency, available (net of the
 * transactions available at the clock) and pending (the rest), so that
 * available + pending is the sum of the nets.  All our transactions come
 * from card payments, so source_types has only card.  connect_reserved is
 * 0 (the fixture has it; the simulator models no Connect reserve).
 */
function balance(ctx, search) {
	const q = parseParams(search, { expand: 'expand' });
	for (const p of q.expand || [])
		throw cannotExpand(p);
	const available = [], pending = [], reserved = [];
	for (const [c, b] of ctx.world.balances(ctx.clock)) {
		available.push({ amount: b.available, currency: c,
		    source_types: { card: b.available } });
		pending.push({ amount: b.pending, currency: c,
		    source_types: { card: b.pending } });
		reserved.push({ amount: 0, currency: c });
	}
	return conform('balance', { available, connect_reserved: reserved,
	    livemode: ctx.world.livemode, object: 'balance', pending });
}

/*
 * Returns the route of a /v1 path: {resource, id, pattern} or null.
 * pattern is the path with the id replaced by {id} (for the request log).
 */
function route(pathname) {
	const m = /^\/v1\/([a-z_]+)(?:\/([^/]+))?$/.exec(pathname);
	if (m === null || RESOURCES[m[1]] === undefined)
		return null;
	if (m[1] === 'balance')
		return m[2] === undefined ? { resource: 'balance', id: null,
		    pattern: '/v1/balance' } : null;
	if (m[2] === undefined)
		return { resource: m[1], id: null, pattern: '/v1/' + m[1] };
	let id;
	try {
		id = decodeURIComponent(m[2]);
	} catch (e) {
		return null;
	}
	return { resource: m[1], id, pattern: '/v1/' + m[1] + '/{id}' };
}

/* Answers a routed GET; returns the body.  Throws ApiErrors. */
function answer(ctx, r, search) {
	ctx.allow(r.resource);
	if (r.resource === 'balance')
		return balance(ctx, search);
	if (r.id === null)
		return list(ctx, r.resource, search);
	return retrieve(ctx, r.resource, r.id, search);
}

module.exports = { API_VERSION, BT_TYPES, RESOURCES, EXPANDABLE, route,
    answer, list, retrieve, balance, present };
