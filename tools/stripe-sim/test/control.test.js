'use strict';
/*
 * The control API (/_sim/): its answers, its input checks, and its refusal
 * of anything a web page could send.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');

let env;
test.before(async () => {
	env = await h.start();
});
test.after(() => env.close());

test('a POST without Content-Type: application/json, or with a foreign Origin, is 403',
    async () => {
	for (const headers of [{ 'Content-Type': 'text/plain' },
	    { 'Content-Type': 'application/x-www-form-urlencoded' },
	    { 'Content-Type': '' },
	    { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
	    { 'Content-Type': 'application/json', Origin: 'null' }]) {
		const r = await env.raw('POST', '/_sim/activity',
		    { headers, body: JSON.stringify({ count: 1 }) });
		assert.equal(r.status, 403, JSON.stringify(headers));
	}
	const own = await env.raw('POST', '/_sim/faults', { headers:
	    { 'Content-Type': 'application/json', Origin: env.base },
	    body: { mode: 'none' } });
	assert.equal(own.status, 200);
});

test('bad bodies and values are 400 naming the field (table)', async () => {
	const cases = [
		['activity', { count: 0 }, /count/],
		['activity', { count: 1.5 }, /count/],
		['activity', { count: 1, mode: 'prod' }, /mode/],
		['faults', { mode: '418' }, /mode must be one of/],
		['faults', { mode: '429', count: -1 }, /count/],
		['faults', { mode: '429', paths_prefix: '/x' }, /paths_prefix/],
		['keys', { mode: 'test', key: 'sk_live_' + 'a'.repeat(20) },
		    /not a test mode key/],
		['keys', { mode: 'test', key: 'nope' }, /a key must be/],
		['keys', { mode: 'test', key: 'sk_test_' + 'a'.repeat(20),
		    resources: ['charges'] }, /only a restricted key/],
		['keys', { mode: 'test', key: 'rk_test_' + 'a'.repeat(20),
		    resources: ['everything'] }, /resources must be/],
		['rate', { test: -1 }, /test must be/],
		['reset', { count: -5 }, /count/],
		['reset', { currencies: ['USD'] }, /currencies/],
		['reset', { seed: '' }, /seed/],
		['reset', { bogus: 1 }, /unknown field bogus/],
	];
	for (const [name, body, re] of cases) {
		const r = await env.ctl(name, body);
		assert.equal(r.status, 400, name + ' ' + JSON.stringify(body));
		assert.match(r.body.error, re);
	}
	const notJson = await env.raw('POST', '/_sim/activity',
	    { body: '{"count": ', headers: { 'Content-Type': 'application/json' } });
	assert.equal(notJson.status, 400);
	assert.equal((await env.ctl('nothing')).status, 404);
	assert.equal((await env.raw('PUT', '/_sim/faults')).status, 405);
	const keys = (await env.raw('GET', '/_sim/keys')).body;
	assert.ok(!JSON.stringify(keys).includes('a'.repeat(20)),
	    'no refused key was stored or shown');
});

test('POST /_sim/keys adds a key that works at once; GET /_sim/keys shows keys masked',
    async () => {
	const key = 'sk_test_' + 'N'.repeat(24);
	assert.equal((await env.get('/v1/balance', key)).status, 401);
	const r = await env.ctl('keys', { mode: 'test', key });
	assert.equal(r.status, 200);
	assert.equal((await env.get('/v1/balance', key)).status, 200);
	const shown = JSON.stringify((await env.raw('GET', '/_sim/keys')).body);
	assert.ok(!shown.includes('N'.repeat(24)));
	assert.ok(shown.includes('sk_test_' + '*'.repeat(20) + 'NNNN'));
});

test('GET /_sim/summary: counts by type and currency, the balance and the nets, for a mode',
    async () => {
	const s = (await env.raw('GET', '/_sim/summary?mode=test')).body;
	assert.equal(s.mode, 'test');
	assert.match(s.account, /^acct_1\w{15}$/);
	assert.equal(s.counts.balance_transactions, 300 +
	    (s.counts.balance_transactions - 300));
	assert.equal(Object.values(s.balance_transactions.by_type)
	    .reduce((a, b) => a + b, 0), s.counts.balance_transactions);
	assert.equal(Object.values(s.balance_transactions.by_currency)
	    .reduce((a, b) => a + b, 0), s.counts.balance_transactions);
	for (const c of Object.keys(s.net_by_currency))
		assert.equal(s.balance.available[c] + s.balance.pending[c],
		    s.net_by_currency[c], c);
	assert.equal(s.balance_equals_sum_of_nets, true);
	const l = (await env.raw('GET', '/_sim/summary?mode=live')).body;
	assert.equal(l.mode, 'live');
	assert.notEqual(l.account, s.account);
	assert.equal((await env.raw('GET', '/_sim/summary?mode=x')).status, 400);
});

test('GET /_sim/requests counts calls per route and mode; POST /_sim/requests/reset clears it',
    async () => {
	await env.ctl('requests/reset');
	await env.get('/v1/charges?limit=1');
	const one = (await env.stripe.charges.list({ limit: 1 })).data[0];
	await env.stripe.charges.retrieve(one.id);
	await env.live.payouts.list({ limit: 1 });
	await env.get('/v1/balance', null);
	const log = (await env.raw('GET', '/_sim/requests')).body;
	assert.equal(log.total, 5);
	assert.deepEqual(log.paths['/v1/charges'], { test: 2, live: 0, none: 0 });
	assert.deepEqual(log.paths['/v1/charges/{id}'],
	    { test: 1, live: 0, none: 0 });
	assert.deepEqual(log.paths['/v1/payouts'], { test: 0, live: 1, none: 0 });
	assert.deepEqual(log.paths['/v1/balance'], { test: 0, live: 0, none: 1 });
	assert.equal(log.statuses['401'], 1);
	assert.equal(log.recent[0].url, '/v1/charges?limit=1');
	assert.ok(!JSON.stringify(log).includes(h.KEYS.test), 'no key logged');
	assert.equal((await env.ctl('requests/reset')).body.total, 0);
});

test('POST /_sim/reset regenerates from a new seed and count; the keys stay',
    async () => {
	const before = (await env.stripe.balanceTransactions.list({ limit: 1 }))
	    .data[0];
	const r = await env.ctl('reset', { seed: 'fresh', count: 120 });
	assert.equal(r.status, 200);
	assert.equal(r.body.count, 120);
	const all = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	assert.equal(all.length, 120);
	assert.ok(!all.some((x) => x.id === before.id));
	const again = await env.ctl('reset', { seed: 'fresh', count: 120 });
	assert.equal(again.status, 200);
	const same = await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }));
	assert.deepEqual(same.map((x) => x.id), all.map((x) => x.id),
	    'the same seed: the same data');
	const cfg = (await env.raw('GET', '/_sim/config')).body;
	assert.equal(cfg.seed, 'fresh');
	assert.equal(cfg.api_version, '2022-11-15');
	await env.ctl('reset', { seed: 'stripe-sim', count: 300 });
});

test('POST /_sim/activity answers what it added, in the current second', async () => {
	const r = await env.ctl('activity', { count: 40 });
	assert.equal(r.status, 200);
	assert.equal(Object.values(r.body.added).reduce((a, b) => a + b, 0), 40);
	assert.ok(r.body.added.charge > 0);
	const newest = await env.stripe.balanceTransactions.list({ limit: 40 });
	assert.ok(newest.data.every((x) => x.created === r.body.created));
	assert.equal(r.body.mode, 'test');
});
