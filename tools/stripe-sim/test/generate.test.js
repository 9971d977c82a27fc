'use strict';
/*
 * The generator directly: determinism by seed, the exact count, speed,
 * and every object in the shape of Stripe's own fixtures
 * (fixtures/fixtures3.json from github.com/stripe/openapi, API version
 * 2022-11-15).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { generate, activity } = require('../lib/generate');
const { template, shapeDiff, keysOf } = require('../lib/shapes');
const h = require('../testlib/helpers');

const CUR = ['usd', 'eur', 'gbp', 'jpy', 'kwd'];

/* Returns a digest of every object of a world, in list order. */
function digest(w) {
	const hash = crypto.createHash('sha256');
	for (const r of Object.keys(w.lists))
		hash.update(JSON.stringify(w.list(r)));
	return hash.digest('hex');
}

test('the same seed gives the same data, byte for byte; another seed other data',
    () => {
	const o = { mode: 'test', seed: 'demo', count: 2000, currencies: CUR,
	    now: h.NOW };
	const a = generate(o), b = generate(o);
	assert.equal(digest(a), digest(b));
	assert.equal(a.accountId, b.accountId);
	const c = generate(Object.assign({}, o, { seed: 'other' }));
	assert.notEqual(digest(a), digest(c));
	const live = generate(Object.assign({}, o, { mode: 'live' }));
	assert.notEqual(digest(a), digest(live), 'live is its own account');
	/* Activity from the same state is deterministic too. */
	activity(a, 50, h.NOW + 10);
	activity(b, 50, h.NOW + 10);
	assert.equal(digest(a), digest(b));
});

test('exactly count balance transactions, all at or before now, spread over days',
    () => {
	for (const count of [0, 1, 7, 300, 1234]) {
		const w = generate({ mode: 'test', seed: 's', count, currencies: CUR,
		    now: h.NOW });
		const list = w.list('balance_transactions');
		assert.equal(list.length, count);
		assert.ok(list.every((x) => x.created <= h.NOW));
		for (const r of Object.keys(w.lists))
			assert.ok(w.list(r).every((x) => x.created <= h.NOW), r);
		if (count >= 300) {
			const days = (list[0].created - list[list.length - 1].created) /
			    86400;
			assert.ok(days > 5, 'spread over ' + days + ' days');
			assert.ok(h.NOW - list[0].created < 86400, 'reaches now');
		}
	}
});

test('10,000 balance transactions generate in well under a few seconds',
    () => {
	const t = Date.now();
	const w = generate({ mode: 'test', seed: 'speed', count: 10000,
	    currencies: CUR, now: h.NOW });
	const ms = Date.now() - t;
	assert.equal(w.btCount, 10000);
	assert.ok(ms < 2500, ms + ' ms');
});

test('many transactions share a second (bursts), as real traffic does', () => {
	const w = generate({ mode: 'test', seed: 'x', count: 300, currencies: CUR,
	    now: h.NOW });
	const per = new Map();
	for (const bt of w.list('balance_transactions'))
		per.set(bt.created, (per.get(bt.created) || 0) + 1);
	assert.ok(Math.max(...per.values()) >= 10, 'a burst of 10+ in a second');
});

test('every object has the fixture\'s keys and nesting (fixtures3.json, 2022-11-15)',
    async () => {
	const env = await h.start({ count: 2000 });
	try {
		const s = env.stripe;
		const lists = {
			balance_transaction: await h.all(s.balanceTransactions.list(
			    { limit: 100 })),
			charge: await h.all(s.charges.list({ limit: 100 })),
			payment_intent: await h.all(s.paymentIntents.list({ limit: 100 })),
			refund: await h.all(s.refunds.list({ limit: 100 })),
			dispute: await h.all(s.disputes.list({ limit: 100 })),
			payout: await h.all(s.payouts.list({ limit: 100 })),
			customer: await h.all(s.customers.list({ limit: 100 })),
			balance: [await s.balance.retrieve()],
		};
		for (const [kind, items] of Object.entries(lists)) {
			assert.ok(items.length > 0, kind);
			const tpl = Object.assign({}, template(kind));
			if (kind === 'charge')
				delete tpl.refunds;
			for (const o of items) {
				const plain = JSON.parse(JSON.stringify(o));
				assert.deepEqual(Object.keys(plain), keysOf(kind), kind +
				    ' keys in the fixture\'s order');
				assert.deepEqual(shapeDiff(tpl, plain, kind), [], o.id);
				if (kind === 'dispute')
					for (const bt of o.balance_transactions)
						assert.deepEqual(shapeDiff(template(
						    'balance_transaction'), bt, 'dispute.bt'), []);
			}
		}
		/* livemode only where the fixture has it. */
		assert.equal('livemode' in template('balance_transaction'), false);
		assert.equal('livemode' in lists.balance_transaction[0], false);
		assert.equal(lists.charge[0].livemode, false);
		const ch = await s.charges.retrieve(lists.charge[0].id,
		    { expand: ['refunds'] });
		assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(ch))),
		    Object.keys(template('charge')), 'refunds in its place');
	} finally {
		await env.close();
	}
});

test('shapeDiff finds a missing key, an extra key and a wrong type', () => {
	const tpl = { a: 1, b: { c: 'x' }, d: [], e: null, m: {} };
	assert.deepEqual(shapeDiff(tpl, { a: 2, b: { c: 'y' }, d: [1], e: 5,
	    m: { any: 1 } }), []);
	assert.deepEqual(shapeDiff(tpl, { a: '2', b: { c: 'y', z: 1 }, d: [],
	    e: null, m: {} }), ['.a: want a number, got string',
	    '.b.z: not in the fixture']);
	assert.deepEqual(shapeDiff(tpl, { a: 1, b: {}, d: [], m: {} }).sort(),
	    ['.b.c: missing', '.e: missing']);
});
