'use strict';
/*
 * The money in the generated account keeps Stripe's own rules, read back
 * through the official client: docs.stripe.com/api/balance_transactions
 * (fee = sum of fee_details, net = amount - fee, exchange_rate),
 * docs.stripe.com/api/balance (available + pending per currency),
 * docs.stripe.com/currencies (minor units), docs.stripe.com/api/refunds,
 * docs.stripe.com/api/disputes, docs.stripe.com/payouts/reconciliation
 * (the payout filter).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');
const cur = require('../lib/currencies');

const CURRENCIES = ['usd', 'eur', 'gbp', 'jpy', 'kwd', 'huf', 'isk', 'twd',
    'bhd', 'clp'];

let env, bts, charges;
test.before(async () => {
	env = await h.start({ count: 4000, currencies: CURRENCIES });
	bts = await h.all(env.stripe.balanceTransactions.list({ limit: 100 }));
	charges = await h.all(env.stripe.charges.list({ limit: 100 }));
});
test.after(() => env.close());

/* Returns {currency: sum of net} over transactions. */
function netByCurrency(list) {
	const out = {};
	for (const bt of list)
		out[bt.currency] = (out[bt.currency] || 0) + bt.net;
	return out;
}

/* Returns {currency: {available, pending}} of a balance object. */
function balanceOf(b) {
	const out = {};
	for (const [k, list] of [['available', b.available],
	    ['pending', b.pending]])
		for (const x of list) {
			out[x.currency] = out[x.currency] || { available: 0, pending: 0 };
			out[x.currency][k] += x.amount;
		}
	return out;
}

test('balance: available + pending equals the sum of the nets, per currency (api/balance)',
    async () => {
	const b = await env.stripe.balance.retrieve();
	assert.equal(b.object, 'balance');
	assert.equal(b.livemode, false);
	const nets = netByCurrency(bts);
	const bal = balanceOf(b);
	for (const c of CURRENCIES)
		assert.ok(bal[c] !== undefined, 'no balance in ' + c);
	for (const [c, sum] of Object.entries(nets))
		assert.equal(bal[c].available + bal[c].pending, sum, c);
	/* pending = the transactions not yet available (available_on later). */
	for (const c of Object.keys(nets)) {
		const pending = bts.filter((x) => x.currency === c &&
		    x.status === 'pending').reduce((s, x) => s + x.net, 0);
		assert.equal(bal[c].pending, pending, c);
	}
	for (const x of bts)
		assert.equal(x.status, x.available_on <= h.NOW + 60 ? 'available' :
		    'pending', x.id);
});

test('the balance invariant holds after /_sim/activity adds transactions now',
    async () => {
	const e2 = await h.start({ count: 500 });
	try {
		const r = await e2.ctl('activity', { count: 250 });
		assert.equal(r.status, 200, r.text);
		const list = await h.all(e2.stripe.balanceTransactions.list(
		    { limit: 100 }));
		assert.equal(list.length, 750);
		const newest = list.slice(0, 250);
		assert.ok(newest.every((x) => x.created === r.body.created),
		    'all in the current second');
		const bal = balanceOf(await e2.stripe.balance.retrieve());
		for (const [c, sum] of Object.entries(netByCurrency(list)))
			assert.equal(bal[c].available + bal[c].pending, sum, c);
		const s = (await e2.raw('GET', '/_sim/summary?mode=test')).body;
		assert.equal(s.balance_equals_sum_of_nets, true);
		assert.deepEqual(s.net_by_currency, Object.fromEntries(
		    Object.keys(s.net_by_currency).map((c) => [c,
		    netByCurrency(list)[c] || 0])));
		/* An incremental sync from the last second it saw finds them. */
		const again = await h.all(e2.stripe.balanceTransactions.list(
		    { limit: 100, created: { gte: r.body.created } }));
		assert.equal(again.length, 250);
	} finally {
		await e2.close();
	}
});

test('fee is the sum of fee_details and net is amount - fee, for every transaction (api/balance_transactions/object)',
    () => {
	for (const bt of bts) {
		assert.equal(bt.fee, bt.fee_details.reduce((s, d) => s + d.amount, 0),
		    bt.id);
		assert.equal(bt.net, bt.amount - bt.fee, bt.id);
		for (const d of bt.fee_details) {
			assert.deepEqual(Object.keys(d).sort(), ['amount', 'application',
			    'currency', 'description', 'type']);
			assert.equal(d.currency, bt.currency);
			assert.ok(['stripe_fee', 'application_fee', 'tax']
			    .includes(d.type));
		}
	}
	const types = new Set(bts.flatMap((bt) => bt.fee_details.map((d) =>
	    d.type)));
	assert.deepEqual([...types].sort(), ['application_fee', 'stripe_fee',
	    'tax']);
});

test('every amount is valid for its currency\'s minor unit: zero-decimal whole, three-decimal ending in 0, ISK HUF TWD divisible by 100 (docs.stripe.com/currencies)',
    async () => {
	const bad = [];
	const check = (c, v, what) => {
		if (!Number.isInteger(v) || v % cur.step(c) !== 0)
			bad.push(what + ' ' + v + ' ' + c);
	};
	for (const bt of bts) {
		check(bt.currency, bt.amount, bt.id);
		check(bt.currency, bt.fee, bt.id);
		for (const d of bt.fee_details)
			check(d.currency, d.amount, bt.id);
	}
	for (const ch of charges) {
		check(ch.currency, ch.amount, ch.id);
		check(ch.currency, ch.amount_refunded, ch.id);
	}
	for (const re of await h.all(env.stripe.refunds.list({ limit: 100 })))
		check(re.currency, re.amount, re.id);
	for (const po of await h.all(env.stripe.payouts.list({ limit: 100 })))
		check(po.currency, po.amount, po.id);
	const b = await env.stripe.balance.retrieve();
	for (const x of b.available.concat(b.pending))
		check(x.currency, x.amount, 'balance');
	assert.deepEqual(bad, []);
	assert.equal(cur.step('kwd'), 10);
	assert.equal(cur.step('jpy'), 1);
	assert.equal(cur.step('huf'), 100);
	assert.equal(cur.step('isk'), 100);
	assert.equal(cur.step('twd'), 100);
	assert.equal(cur.step('ugx'), 1);
	assert.equal(cur.exponent('ugx'), 0);
	assert.equal(cur.exponent('bhd'), 3);
	const kwd = bts.filter((x) => x.currency === 'kwd');
	assert.ok(kwd.length > 0 && kwd.every((x) => x.amount % 10 === 0));
});

test('multi-currency charges: presented in one currency, settled in another with a float exchange_rate (api/balance_transactions/object exchange_rate)',
    async () => {
	const e2 = await h.start({ count: 1500, currencies: ['usd', 'eur'] });
	try {
		const list = await h.all(e2.stripe.balanceTransactions.list(
		    { limit: 100, type: 'charge', expand: ['data.source'] }));
		const converted = list.filter((bt) => bt.source.currency !==
		    bt.currency);
		assert.ok(converted.length > 20, 'few converted charges');
		const presented = new Set(converted.map((bt) => bt.source.currency));
		assert.ok(presented.size >= 3, [...presented].join());
		for (const bt of converted) {
			assert.equal(bt.currency, 'usd', 'settles in the default currency');
			assert.equal(typeof bt.exchange_rate, 'number');
			assert.ok(!Number.isInteger(bt.exchange_rate) ||
			    bt.exchange_rate === 0, 'a float');
			/* amount (A) x exchange_rate = amount (B), in major units. */
			const want = bt.source.amount / 10 ** cur.exponent(
			    bt.source.currency) * bt.exchange_rate *
			    10 ** cur.exponent(bt.currency);
			assert.ok(Math.abs(want - bt.amount) <=
			    Math.max(cur.step(bt.currency), want * 0.001), bt.id);
		}
		for (const bt of list.filter((x) => x.source.currency === x.currency))
			assert.equal(bt.exchange_rate, null);
		const refunds = await h.all(e2.stripe.balanceTransactions.list(
		    { limit: 100, type: 'refund', expand: ['data.source.charge'] }));
		for (const bt of refunds)
			if (bt.source.charge.currency !== bt.currency)
				assert.equal(typeof bt.exchange_rate, 'number');
	} finally {
		await e2.close();
	}
});

test('refunds never take back more than their charge and come at least a second after it (api/refunds)',
    async () => {
	const refunds = await h.all(env.stripe.refunds.list({ limit: 100,
	    expand: ['data.balance_transaction'] }));
	assert.ok(refunds.length > 100);
	const byCharge = new Map(charges.map((c) => [c.id, c]));
	const sums = new Map();
	for (const re of refunds) {
		const ch = byCharge.get(re.charge);
		assert.ok(re.created >= ch.created + 1, re.id);
		assert.equal(re.currency, ch.currency);
		assert.equal(re.payment_intent, ch.payment_intent);
		assert.ok(re.amount > 0);
		assert.equal(re.balance_transaction.type, 'refund');
		assert.ok(re.balance_transaction.amount < 0);
		assert.equal(re.balance_transaction.source, re.id);
		const s = sums.get(ch.id) || { amount: 0, settled: 0 };
		s.amount += re.amount;
		s.settled += -re.balance_transaction.amount;
		sums.set(ch.id, s);
	}
	const btOf = new Map(bts.map((b) => [b.id, b]));
	let full = 0, partial = 0;
	for (const [id, s] of sums) {
		const ch = byCharge.get(id);
		assert.equal(s.amount, ch.amount_refunded, id);
		assert.ok(ch.amount_refunded <= ch.amount_captured, id);
		assert.ok(s.settled <= btOf.get(ch.balance_transaction).amount, id);
		assert.equal(ch.refunded, ch.amount_refunded === ch.amount_captured);
		if (ch.refunded)
			full++;
		else
			partial++;
	}
	assert.ok(full > 0 && partial > 0, 'full and partial refunds');
	for (const ch of charges)
		if (!sums.has(ch.id))
			assert.equal(ch.amount_refunded, 0);
});

test('charges, PaymentIntents and customers: succeeded with amount_received, guests and customers naming a Blnk balance, failed charges without a transaction',
    async () => {
	const pis = await h.all(env.stripe.paymentIntents.list({ limit: 100 }));
	const byId = new Map(pis.map((p) => [p.id, p]));
	for (const ch of charges) {
		const pi = byId.get(ch.payment_intent);
		assert.equal(pi.latest_charge, ch.id);
		assert.equal(pi.amount, ch.amount);
		assert.equal(pi.currency, ch.currency);
		if (ch.status === 'succeeded') {
			assert.equal(pi.status, 'succeeded');
			assert.equal(pi.amount_received, ch.amount);
			assert.match(ch.balance_transaction, /^txn_/);
		} else {
			assert.equal(ch.status, 'failed');
			assert.equal(ch.balance_transaction, null);
			assert.equal(pi.status, 'requires_payment_method');
			assert.equal(pi.amount_received, 0);
		}
	}
	assert.ok(charges.some((c) => c.status === 'failed'));
	assert.ok(charges.some((c) => c.customer === null), 'guests');
	const customers = await h.all(env.stripe.customers.list({ limit: 100 }));
	const wallets = customers.filter((c) => c.metadata.blnk_balance);
	assert.ok(wallets.length > 0 && wallets.length < customers.length);
	assert.ok(wallets.every((c) => /^@[a-z0-9-]+-wallet$/.test(
	    c.metadata.blnk_balance)));
	const ids = new Set(customers.map((c) => c.id));
	for (const ch of charges)
		if (ch.customer !== null)
			assert.ok(ids.has(ch.customer));
	const made = new Map(customers.map((c) => [c.id, c.created]));
	for (const ch of charges)
		if (ch.customer !== null)
			assert.ok(made.get(ch.customer) <= ch.created);
});

test('disputes: withdrawal of the amount plus a 15.00 fee (adjustment, reporting_category dispute); a won one puts both back (api/disputes)',
    async () => {
	const disputes = await h.all(env.stripe.disputes.list({ limit: 100,
	    expand: ['data.charge'] }));
	assert.ok(disputes.length > 5);
	let won = 0;
	for (const dp of disputes) {
		const [w, back] = dp.balance_transactions;
		assert.equal(w.type, 'adjustment');
		assert.equal(w.reporting_category, 'dispute');
		assert.equal(w.source, dp.id);
		const cbt = bts.find((x) => x.id === dp.charge.balance_transaction);
		assert.equal(w.amount, -cbt.amount);
		assert.equal(w.fee, cur.fromUsd(w.currency, 15));
		if (w.currency === 'usd')
			assert.equal(w.fee, 1500);
		assert.equal(dp.amount, dp.charge.amount);
		assert.equal(dp.charge.disputed, true);
		if (dp.status === 'won') {
			won++;
			assert.equal(back.reporting_category, 'dispute_reversal');
			assert.equal(back.amount, -w.amount);
			assert.equal(back.fee, -w.fee);
			assert.equal(back.net, -w.net);
			assert.ok(back.created > w.created);
		} else
			assert.equal(dp.balance_transactions.length, 1);
	}
	assert.ok(won > 0, 'no won dispute');
});

test('the payout filter lists what an automatic payout settled, and those sum to the payout (balance_transactions/list payout)',
    async () => {
	const payouts = await h.all(env.stripe.payouts.list({ limit: 100 }));
	assert.ok(payouts.length > 20);
	const seen = new Map();
	const btOf = new Map(bts.map((b) => [b.id, b]));
	for (const po of payouts) {
		assert.equal(po.automatic, true);
		assert.equal(po.reconciliation_status, 'completed');
		const items = await h.all(env.stripe.balanceTransactions.list(
		    { limit: 100, payout: po.id }));
		const own = items.filter((x) => x.type === 'payout');
		assert.deepEqual(own.map((x) => x.id), [po.balance_transaction]);
		assert.equal(own[0].amount, -po.amount);
		const settled = items.filter((x) => x.type !== 'payout');
		assert.ok(settled.length > 0);
		assert.equal(settled.reduce((s, x) => s + x.net, 0), po.amount, po.id);
		for (const x of settled) {
			assert.equal(x.currency, po.currency);
			assert.equal(x.status, 'available');
			assert.ok(x.available_on <= po.created, 'available when paid out');
			assert.ok(!seen.has(x.id), x.id + ' in two payouts');
			seen.set(x.id, po.id);
		}
		assert.ok(po.amount > 0);
		if (po.status === 'failed') {
			const f = btOf.get(po.failure_balance_transaction);
			assert.equal(f.type, 'payout_failure');
			assert.equal(f.amount, po.amount);
			assert.equal(f.source, po.id);
		}
	}
	/* Never more than was available: at each payout the available balance
	 * of its currency (all nets available by then) stays >= 0 after it. */
	for (const po of payouts) {
		const avail = bts.filter((x) => x.currency === po.currency &&
		    x.created <= po.created && x.available_on <= po.created &&
		    x.id !== po.balance_transaction).reduce((s, x) => s + x.net, 0);
		assert.ok(avail >= po.amount, po.id);
	}
	const e = await h.rejection(env.stripe.balanceTransactions.list(
	    { payout: 'po_nope' }));
	assert.equal(e.code, 'resource_missing');
	assert.equal(e.param, 'payout');
});

test('many currencies, and charges in every balance currency', () => {
	const got = new Set(bts.map((x) => x.currency));
	for (const c of CURRENCIES)
		assert.ok(got.has(c), c);
	assert.ok(new Set(charges.map((c) => c.currency)).size >= CURRENCIES.length);
});

test('Stripe fees appear now and then (type stripe_fee, reporting_category fee, negative)',
    () => {
	const fees = bts.filter((x) => x.type === 'stripe_fee');
	assert.ok(fees.length > 0);
	for (const f of fees) {
		assert.equal(f.reporting_category, 'fee');
		assert.ok(f.amount < 0);
		assert.equal(f.source, null);
	}
});
