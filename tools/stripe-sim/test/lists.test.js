'use strict';
/*
 * Lists and retrieval read through Stripe's official Node client, as the
 * API reference says they behave (docs.stripe.com/api/pagination,
 * docs.stripe.com/api/expanding_objects, docs.stripe.com/api/errors).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');

let env;
test.before(async () => {
	env = await h.start({ count: 3000 });
});
test.after(() => env.close());

/* Returns true when a is strictly newer-first before b in Stripe's order
 * as the simulator keeps it (created descending). */
function newestFirst(items) {
	for (let i = 1; i < items.length; i++)
		if (items[i].created > items[i - 1].created)
			return false;
	return true;
}

test('list shape: {object: "list", data, has_more, url} (api/pagination)',
    async () => {
	const r = await env.stripe.balanceTransactions.list();
	assert.deepEqual(Object.keys(r).filter((k) => k !== 'lastResponse')
	    .sort(), ['data', 'has_more', 'object', 'url']);
	assert.equal(r.object, 'list');
	assert.equal(r.url, '/v1/balance_transactions');
	assert.equal(r.data.length, 10, 'default limit is 10');
	assert.equal(r.has_more, true);
	for (const [res, url] of [['charges', '/v1/charges'],
	    ['paymentIntents', '/v1/payment_intents'], ['refunds', '/v1/refunds'],
	    ['disputes', '/v1/disputes'], ['payouts', '/v1/payouts'],
	    ['customers', '/v1/customers']]) {
		const l = await env.stripe[res].list({ limit: 3 });
		assert.equal(l.object, 'list', res);
		assert.equal(l.url, url, res);
		assert.ok(l.data.length > 0, res + ' is empty');
	}
});

test('auto-pagination over 3000 balance transactions: every one once, strictly newest first (api/pagination/auto)',
    async () => {
	const items = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	assert.equal(items.length, 3000);
	assert.equal(new Set(items.map((x) => x.id)).size, 3000, 'duplicates');
	assert.ok(newestFirst(items), 'not newest first');
	const summary = (await env.raw('GET', '/_sim/summary')).body;
	assert.equal(summary.counts.balance_transactions, 3000);
	/* The data has seconds shared by many transactions, some of them across
	 * a page boundary of 100: the cursor must not lose or repeat them. */
	let straddles = 0;
	for (let i = 100; i < items.length; i += 100)
		if (items[i].created === items[i - 1].created)
			straddles++;
	assert.ok(straddles > 0, 'no page boundary inside a shared second');
});

test('auto-pagination of every list resource: no duplicates, newest first',
    async () => {
	for (const res of ['charges', 'paymentIntents', 'refunds', 'disputes',
	    'payouts', 'customers']) {
		const items = await h.all(env.stripe[res].list({ limit: 100 }));
		assert.equal(new Set(items.map((x) => x.id)).size, items.length, res);
		assert.ok(newestFirst(items), res);
	}
});

test('ending_before pages backwards; auto-pagination with it walks to the newest (api/pagination)',
    async () => {
	const items = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	const pivot = items[1234];
	const before = await env.stripe.balanceTransactions.list(
	    { limit: 5, ending_before: pivot.id });
	assert.deepEqual(before.data.map((x) => x.id),
	    items.slice(1229, 1234).map((x) => x.id));
	assert.equal(before.has_more, true);
	const after = await env.stripe.balanceTransactions.list(
	    { limit: 5, starting_after: pivot.id });
	assert.deepEqual(after.data.map((x) => x.id),
	    items.slice(1235, 1240).map((x) => x.id));
	const newer = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100, ending_before: pivot.id }));
	assert.equal(newer.length, 1234);
	assert.deepEqual(new Set(newer.map((x) => x.id)),
	    new Set(items.slice(0, 1234).map((x) => x.id)));
	const first = await env.stripe.balanceTransactions.list(
	    { limit: 5, ending_before: items[3].id });
	assert.deepEqual(first.data.map((x) => x.id),
	    items.slice(0, 3).map((x) => x.id));
	assert.equal(first.has_more, false);
	const last = await env.stripe.balanceTransactions.list(
	    { limit: 5, starting_after: items[2997].id });
	assert.equal(last.data.length, 2);
	assert.equal(last.has_more, false);
});

test('created filters at a boundary second: gte/lte include it, gt/lt exclude it, an integer is that second (api/balance_transactions/list)',
    async () => {
	const items = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	const counts = new Map();
	for (const x of items)
		counts.set(x.created, (counts.get(x.created) || 0) + 1);
	const t = [...counts.entries()].find(([, n]) => n >= 3)[0];
	const at = items.filter((x) => x.created === t).length;
	const newer = items.filter((x) => x.created > t).length;
	const older = items.filter((x) => x.created < t).length;
	const count = async (created) => (await h.all(
	    env.stripe.balanceTransactions.list({ limit: 100, created }))).length;
	assert.equal(await count({ gte: t }), newer + at);
	assert.equal(await count({ gt: t }), newer);
	assert.equal(await count({ lte: t }), older + at);
	assert.equal(await count({ lt: t }), older);
	assert.equal(await count(t), at);
	assert.equal(await count({ gte: t, lte: t }), at);
	assert.equal(await count({ gt: t, lt: t }), 0);
	/* An importer that restarts at created[gte] of the last one it saw gets
	 * the items of that second again: it must dedupe by id. */
	const page = await env.stripe.balanceTransactions.list({ limit: 100,
	    created: { gte: t } });
	assert.ok(page.data.some((x) => x.created === t));
});

test('created filters work on every list (charges, payouts, customers ...)',
    async () => {
	for (const res of ['charges', 'paymentIntents', 'refunds', 'payouts',
	    'customers']) {
		const items = await h.all(env.stripe[res].list({ limit: 100 }));
		const t = items[Math.floor(items.length / 2)].created;
		const got = await h.all(env.stripe[res].list({ limit: 100,
		    created: { gte: t } }));
		assert.equal(got.length, items.filter((x) => x.created >= t).length,
		    res);
	}
});

test('limit is 1..100: 0, 101 and non-integers are 400 parameter_invalid_integer naming limit (api/pagination)',
    async () => {
	for (const [limit, message] of [
		[0, 'This value must be greater than or equal to 1.'],
		[101, 'This value must be less than or equal to 100.'],
		['ten', 'Invalid integer: ten'],
		['1.5', 'Invalid integer: 1.5'],
	]) {
		const e = await h.rejection(env.stripe.charges.list({ limit }));
		assert.equal(e.type, 'StripeInvalidRequestError', String(limit));
		assert.equal(e.statusCode, 400);
		assert.equal(e.code, 'parameter_invalid_integer');
		assert.equal(e.param, 'limit');
		assert.equal(e.message, message);
	}
	assert.equal((await env.stripe.charges.list({ limit: 1 })).data.length, 1);
	assert.equal((await env.stripe.charges.list({ limit: 100 })).data.length,
	    100);
});

test('an unknown cursor is 400 resource_missing naming starting_after or ending_before',
    async () => {
	for (const param of ['starting_after', 'ending_before']) {
		const e = await h.rejection(env.stripe.balanceTransactions.list(
		    { [param]: 'txn_doesnotexist' }));
		assert.equal(e.statusCode, 400);
		assert.equal(e.code, 'resource_missing');
		assert.equal(e.param, param);
		assert.equal(e.message,
		    "No such balance transaction: 'txn_doesnotexist'");
	}
	/* An id of another resource is not a cursor of this list. */
	const ch = (await env.stripe.charges.list({ limit: 1 })).data[0];
	const e = await h.rejection(env.stripe.balanceTransactions.list(
	    { starting_after: ch.id }));
	assert.equal(e.code, 'resource_missing');
	const both = await h.rejection(env.stripe.charges.list(
	    { starting_after: ch.id, ending_before: ch.id }));
	assert.match(both.message, /only specify one of these parameters/);
});

test('an unknown parameter is 400 "Received unknown parameter: x" (api/errors, parameter_unknown)',
    async () => {
	for (const q of ['bogus=1', 'created[foo]=1', 'status=succeeded',
	    'payout=po_x&bogus=2', 'Limit=3']) {
		const r = await env.get('/v1/charges?' + q);
		assert.equal(r.status, 400, q);
		assert.equal(r.body.error.type, 'invalid_request_error');
		assert.equal(r.body.error.code, 'parameter_unknown', q);
		assert.match(r.body.error.message, /^Received unknown parameter: /);
	}
	/* PaymentIntents have no status filter (CONTRACT: keep succeeded). */
	const e = await h.rejection(env.stripe.paymentIntents.list(
	    { status: 'succeeded' }));
	assert.equal(e.message, 'Received unknown parameter: status');
	assert.equal(e.param, 'status');
	const r = await env.get('/v1/charges/' + 'ch_x' + '?limit=1');
	assert.equal(r.body.error.message, 'Received unknown parameter: limit');
});

test('bad filter values are 400: created not an integer, type not a type, currency upper case, expand not an array',
    async () => {
	const cases = [
		['/v1/balance_transactions?created[gte]=yesterday', 'created[gte]',
		    'parameter_invalid_integer'],
		['/v1/balance_transactions?created=1&created[gte]=2', 'created'],
		['/v1/balance_transactions?type=sale', 'type'],
		['/v1/balance_transactions?currency=USD', 'currency',
		    'invalid_currency'],
		['/v1/balance_transactions?expand=data.source', 'expand'],
		['/v1/balance_transactions?limit=1&limit=2', 'limit'],
		['/v1/payouts?status=in_transit', 'status'],
		['/v1/payouts?arrival_date[gte]=x', 'arrival_date[gte]',
		    'parameter_invalid_integer'],
	];
	for (const [p, param, code] of cases) {
		const r = await env.get(p);
		assert.equal(r.status, 400, p);
		assert.equal(r.body.error.param, param, p);
		assert.equal(r.body.error.code, code, p);
	}
});

test('filters: type, currency, source, customer, payment_intent, charge, payout status (api/*/list)',
    async () => {
	const all = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	const refunds = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100, type: 'refund' }));
	assert.equal(refunds.length, all.filter((x) => x.type === 'refund')
	    .length);
	assert.ok(refunds.length > 0 && refunds.every((x) => x.type === 'refund'));
	const jpy = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100, currency: 'jpy' }));
	assert.equal(jpy.length, all.filter((x) => x.currency === 'jpy').length);
	const one = all.find((x) => x.type === 'charge');
	const bySource = await env.stripe.balanceTransactions.list(
	    { source: one.source });
	assert.deepEqual(bySource.data.map((x) => x.id), [one.id]);
	const ch = await env.stripe.charges.retrieve(one.source);
	const pi = await env.stripe.charges.list({ payment_intent:
	    ch.payment_intent });
	assert.deepEqual(pi.data.map((x) => x.id), [ch.id]);
	const withCustomer = (await h.all(env.stripe.charges.list(
	    { limit: 100 }))).find((x) => x.customer !== null);
	const theirs = await h.all(env.stripe.charges.list({ limit: 100,
	    customer: withCustomer.customer }));
	assert.ok(theirs.length > 0 && theirs.every((x) =>
	    x.customer === withCustomer.customer));
	const refund = (await env.stripe.refunds.list({ limit: 1 })).data[0];
	const forCharge = await env.stripe.refunds.list({ charge: refund.charge });
	assert.ok(forCharge.data.some((x) => x.id === refund.id));
	for (const status of ['paid', 'failed', 'pending', 'canceled']) {
		const got = await h.all(env.stripe.payouts.list({ limit: 100,
		    status }));
		assert.ok(got.every((x) => x.status === status), status);
	}
	const failed = await h.all(env.stripe.payouts.list({ limit: 100,
	    status: 'failed' }));
	assert.ok(failed.length > 0, 'no failed payout in 3000 transactions');
});

test('expand[]=data.source puts the charge, refund, dispute or payout in each transaction (api/expanding_objects)',
    async () => {
	const items = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100, expand: ['data.source'] }));
	const want = { charge: 'charge', refund: 'refund', adjustment: 'dispute',
	    payout: 'payout', payout_failure: 'payout' };
	const seen = new Set();
	for (const bt of items) {
		if (bt.type === 'stripe_fee') {
			assert.equal(bt.source, null);
			continue;
		}
		assert.equal(typeof bt.source, 'object', bt.id);
		assert.equal(bt.source.object, want[bt.type], bt.type);
		seen.add(bt.type);
		if (bt.type === 'charge')
			assert.equal(bt.source.balance_transaction, bt.id);
		if (bt.type === 'refund')
			assert.equal(bt.source.balance_transaction, bt.id);
	}
	assert.deepEqual([...seen].sort(), Object.keys(want).sort());
	const bt = items.find((x) => x.type === 'charge');
	const one = await env.stripe.balanceTransactions.retrieve(bt.id,
	    { expand: ['source'] });
	assert.equal(one.source.id, bt.source.id);
	const plain = await env.stripe.balanceTransactions.retrieve(bt.id);
	assert.equal(plain.source, bt.source.id);
});

test('expand on charges and PaymentIntents: data.customer, data.balance_transaction, nested data.source.customer, and refunds only when expanded (changelog 2022-11-15)',
    async () => {
	const charges = await h.all(env.stripe.charges.list({ limit: 100,
	    expand: ['data.customer', 'data.balance_transaction'] }));
	for (const c of charges) {
		assert.ok(c.customer === null || c.customer.object === 'customer');
		assert.ok(c.balance_transaction === null ||
		    c.balance_transaction.object === 'balance_transaction');
		assert.equal('refunds' in c, false, 'refunds not expanded');
	}
	const pis = await env.stripe.paymentIntents.list({ limit: 100,
	    expand: ['data.customer', 'data.latest_charge'] });
	assert.ok(pis.data.every((p) => p.latest_charge.object === 'charge'));
	const refunded = charges.find((c) => c.amount_refunded > 0);
	const ch = await env.stripe.charges.retrieve(refunded.id,
	    { expand: ['refunds'] });
	assert.equal(ch.refunds.object, 'list');
	assert.equal(ch.refunds.url, '/v1/charges/' + ch.id + '/refunds');
	assert.equal(ch.refunds.data.reduce((s, r) => s + r.amount, 0),
	    ch.amount_refunded);
	const deep = await env.stripe.balanceTransactions.list({ limit: 20,
	    type: 'charge', expand: ['data.source.customer'] });
	assert.ok(deep.data.every((bt) => bt.source.object === 'charge' &&
	    (bt.source.customer === null ||
	    bt.source.customer.object === 'customer')));
});

test('an expand path that cannot be expanded is 400 (api/expanding_objects)',
    async () => {
	for (const expand of [['data.nothing'], ['source'], ['data'],
	    ['data.source.a.b.c'], ['data.amount']]) {
		const e = await h.rejection(env.stripe.balanceTransactions.list(
		    { expand }));
		assert.equal(e.statusCode, 400, expand[0]);
		assert.equal(e.type, 'StripeInvalidRequestError');
	}
	const e = await h.rejection(env.stripe.balance.retrieve(
	    { expand: ['available'] }));
	assert.equal(e.statusCode, 400);
});

test('retrieve by id for each resource; an unknown id is 404 resource_missing (api/errors)',
    async () => {
	const pairs = [['balanceTransactions', 'balance transaction', 'txn_'],
	    ['charges', 'charge', 'ch_'], ['paymentIntents', 'payment_intent', 'pi_'],
	    ['refunds', 'refund', 're_'], ['disputes', 'dispute', 'dp_'],
	    ['payouts', 'payout', 'po_'], ['customers', 'customer', 'cus_']];
	for (const [res, name, prefix] of pairs) {
		const one = (await env.stripe[res].list({ limit: 1 })).data[0];
		assert.ok(one.id.startsWith(prefix), one.id);
		const got = await env.stripe[res].retrieve(one.id);
		assert.deepEqual(got.id, one.id);
		const e = await h.rejection(env.stripe[res].retrieve(prefix + 'nope'));
		assert.equal(e.statusCode, 404, res);
		assert.equal(e.code, 'resource_missing');
		assert.equal(e.param, 'id');
		assert.equal(e.message, 'No such ' + name + ": '" + prefix + "nope'");
		assert.match(e.raw.doc_url, /error-codes\/resource-missing$/);
	}
});

test('an id of the other mode is missing too, and the message says so (test and live never mix)',
    async () => {
	const live = (await env.live.charges.list({ limit: 1 })).data[0];
	assert.equal(live.livemode, true);
	const e = await h.rejection(env.stripe.charges.retrieve(live.id));
	assert.equal(e.statusCode, 404);
	assert.match(e.message, /a similar object exists in live mode, but a test mode key was used/);
	const test = (await env.stripe.charges.list({ limit: 1 })).data[0];
	assert.equal(test.livemode, false);
	const e2 = await h.rejection(env.live.charges.retrieve(test.id));
	assert.match(e2.message, /exists in test mode, but a live mode key/);
});

test('raw query forms: expand[0]= and expand[]= and percent-encoded brackets are the same',
    async () => {
	const a = await env.get('/v1/balance_transactions?limit=2&expand[]=data.source');
	const b = await env.get('/v1/balance_transactions?limit=2&expand%5B0%5D=data.source');
	const c = await env.get('/v1/balance_transactions?limit=2&created%5Bgte%5D=0&expand%5B%5D=data.source');
	assert.equal(a.status, 200);
	assert.deepEqual(a.body, b.body);
	assert.deepEqual(a.body, c.body);
	assert.equal(typeof a.body.data[0].source, 'object');
});
