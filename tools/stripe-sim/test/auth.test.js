'use strict';
/*
 * Keys, modes, versions, faults and rate limits, as Stripe documents them:
 * docs.stripe.com/api/authentication and docs.stripe.com/keys (Bearer or
 * Basic, sk_/rk_ test and live keys, each mode its own data),
 * docs.stripe.com/keys/restricted-api-keys (403), docs.stripe.com/api/
 * versioning (Stripe-Version), docs.stripe.com/rate-limits (429 rate_limit,
 * 25/s test, 100/s live), docs.stripe.com/error-low-level
 * (Stripe-Should-Retry).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');
const { maskKey } = require('../lib/errors');

let env;
test.before(async () => {
	env = await h.start();
});
test.after(() => env.close());
test.beforeEach(async () => {
	await env.ctl('faults', { mode: 'none' });
	await env.ctl('rate', { test: 0, live: 0 });
});

test('a missing key is 401 "You did not provide an API key" (api/authentication)',
    async () => {
	for (const headers of [{}, { Authorization: '' },
	    { Authorization: 'Bearer ' }]) {
		const r = await env.raw('GET', '/v1/balance', { headers });
		assert.equal(r.status, 401);
		assert.equal(r.body.error.type, 'invalid_request_error');
		assert.match(r.body.error.message, /^You did not provide an API key/);
		assert.equal(r.body.error.request_log_url, undefined);
		assert.match(r.headers['request-id'], /^req_[A-Za-z0-9]{14}$/);
	}
});

test('an unknown key is 401 with the key masked as Stripe masks it (api/authentication)',
    async () => {
	const bad = 'sk_test_' + 'x'.repeat(20) + 'abcd';
	const e = await h.rejection(env.client(bad).balance.retrieve());
	assert.equal(e.type, 'StripeAuthenticationError');
	assert.equal(e.statusCode, 401);
	assert.equal(e.message, 'Invalid API Key provided: sk_test_' +
	    '*'.repeat(20) + 'abcd');
	assert.equal(e.raw.type, 'invalid_request_error');
	assert.ok(!JSON.stringify(e.raw).includes('x'.repeat(20)));
	assert.equal(maskKey('rk_live_0123456789abcdef'), 'rk_live_' +
	    '*'.repeat(12) + 'cdef');
	assert.equal(maskKey('abc'), '***');
	const spaced = await env.raw('GET', '/v1/balance',
	    { headers: { Authorization: 'Bearer sk_test_ab cd' } });
	assert.match(spaced.body.error.message, /contains at least one space/);
	const pk = await env.raw('GET', '/v1/balance',
	    { headers: { Authorization: 'Bearer pk_test_0123456789abcdefgh' } });
	assert.equal(pk.status, 401);
	assert.match(pk.body.error.message, /publishable API key/);
});

test('HTTP Basic with the key as the user works as Bearer does (api/authentication)',
    async () => {
	const auth = 'Basic ' + Buffer.from(h.KEYS.test + ':').toString('base64');
	const r = await env.raw('GET', '/v1/balance',
	    { headers: { Authorization: auth } });
	assert.equal(r.status, 200);
	assert.equal(r.body.livemode, false);
	const bad = 'Basic ' + Buffer.from('sk_test_nope:').toString('base64');
	assert.equal((await env.raw('GET', '/v1/balance',
	    { headers: { Authorization: bad } })).status, 401);
});

test('test and live keys see two separate accounts: livemode follows the key, no id is shared (docs.stripe.com/keys)',
    async () => {
	const t = await h.all(env.stripe.charges.list({ limit: 100 }));
	const l = await h.all(env.live.charges.list({ limit: 100 }));
	assert.ok(t.every((c) => c.livemode === false));
	assert.ok(l.every((c) => c.livemode === true));
	const ids = new Set(t.map((c) => c.id));
	assert.ok(l.every((c) => !ids.has(c.id)), 'a shared id');
	assert.equal((await env.live.balance.retrieve()).livemode, true);
	const tb = await h.all(env.stripe.balanceTransactions.list({ limit: 100 }));
	const lb = await h.all(env.live.balanceTransactions.list({ limit: 100 }));
	assert.notDeepEqual(tb.map((x) => x.amount), lb.map((x) => x.amount));
	/* Activity in live mode leaves test mode alone. */
	const before = tb.length;
	const r = await env.ctl('activity', { count: 5, mode: 'live' });
	assert.equal(r.status, 200);
	assert.equal((await h.all(env.stripe.balanceTransactions.list(
	    { limit: 100 }))).length, before);
	assert.equal((await h.all(env.live.balanceTransactions.list(
	    { limit: 100 }))).length, lb.length + 5);
	const lk = await env.client(h.KEYS.restrictedLive).balance.retrieve();
	assert.equal(lk.livemode, true);
});

test('a restricted key reads what it may and gets 403 elsewhere, expansions included (keys/restricted-api-keys)',
    async () => {
	const rk = env.client(h.KEYS.restricted);
	assert.equal((await rk.balanceTransactions.list({ limit: 2 })).data.length,
	    2);
	await rk.balance.retrieve();
	const e = await h.rejection(rk.charges.list());
	assert.equal(e.type, 'StripePermissionError');
	assert.equal(e.statusCode, 403);
	assert.equal(e.raw.type, 'invalid_request_error');
	assert.match(e.message, /^The provided key 'rk_test_\*+rsrc' does not have the required permissions for this endpoint on account 'acct_\w+'\. Having the 'rak_charge_read' permission would allow this request to continue\.$/);
	const x = await h.rejection(rk.balanceTransactions.list({ type: 'charge',
	    expand: ['data.source'] }));
	assert.equal(x.statusCode, 403);
	const full = await env.get('/v1/charges?limit=1');
	assert.equal(full.status, 200, 'a secret key reads everything');
});

test('Stripe-Version: 2022-11-15 is answered, any other version is 400, and the versions seen are recorded (api/versioning)',
    async () => {
	await env.ctl('requests/reset');
	const ok = await env.stripe.balance.retrieve();
	assert.equal(ok.lastResponse.apiVersion, '2022-11-15');
	const other = env.client(h.KEYS.test, { apiVersion: '2023-10-16' });
	const e = await h.rejection(other.balance.retrieve());
	assert.equal(e.statusCode, 400);
	assert.equal(e.type, 'StripeInvalidRequestError');
	assert.match(e.message, /^Invalid Stripe API version: 2023-10-16/);
	for (const v of ['2099-99-99', 'latest', '2022-11-15.x y'])
		assert.equal((await env.raw('GET', '/v1/balance', { key: h.KEYS.test,
		    headers: { 'Stripe-Version': v } })).status, 400, v);
	const none = await env.raw('GET', '/v1/balance', { key: h.KEYS.test });
	assert.equal(none.status, 200, 'no header: the account default');
	assert.equal(none.headers['stripe-version'], '2022-11-15');
	const log = (await env.raw('GET', '/_sim/requests')).body;
	assert.equal(log.stripe_versions['2022-11-15'], 1);
	assert.equal(log.stripe_versions['2023-10-16'], 1);
	assert.equal(log.stripe_versions['(none)'], 1);
	assert.equal(log.paths['/v1/balance'].test, 6);
});

test('429 on demand: Stripe\'s rate_limit body and Stripe-Should-Retry: false; the client does not retry it (rate-limits, error-low-level)',
    async () => {
	const r = await env.ctl('faults', { mode: '429', count: 2,
	    paths_prefix: '/v1/balance_transactions' });
	assert.equal(r.status, 200);
	assert.equal((await env.get('/v1/charges?limit=1')).status, 200,
	    'another path is not affected');
	const retrying = env.client(h.KEYS.test, { maxNetworkRetries: 2 });
	const e = await h.rejection(retrying.balanceTransactions.list());
	assert.equal(e.type, 'StripeRateLimitError');
	assert.equal(e.statusCode, 429);
	assert.equal(e.code, 'rate_limit');
	assert.equal(e.raw.type, 'invalid_request_error');
	assert.match(e.message, /^Request rate limit exceeded\./);
	assert.equal(e.headers['stripe-should-retry'], 'false');
	const raw = await env.get('/v1/balance_transactions');
	assert.equal(raw.status, 429);
	assert.deepEqual(Object.keys(raw.body.error), ['code', 'doc_url',
	    'message', 'request_log_url', 'type']);
	assert.equal((await env.get('/v1/balance_transactions')).status, 200,
	    'two faults, then normal again');
	assert.deepEqual((await env.raw('GET', '/_sim/faults')).body,
	    { mode: 'none', count: 0, paths_prefix: '/v1/' });
});

test('lock_timeout 429s say Stripe-Should-Retry: true and the client retries them; 500s are retried too',
    async () => {
	const retrying = env.client(h.KEYS.test, { maxNetworkRetries: 2 });
	await env.ctl('faults', { mode: 'lock_timeout', count: 1 });
	const ok = await retrying.balance.retrieve();
	assert.equal(ok.object, 'balance');
	await env.ctl('faults', { mode: '500', count: 1 });
	assert.equal((await retrying.balance.retrieve()).object, 'balance');
	await env.ctl('faults', { mode: '500', count: 1 });
	const e = await h.rejection(env.stripe.balance.retrieve());
	assert.equal(e.type, 'StripeAPIError');
	assert.equal(e.statusCode, 500);
	assert.equal(e.raw.type, 'api_error');
});

test('the rate limiter: more than N calls a second in a mode is 429 rate_limit (rate-limits: 25/s test, 100/s live)',
    async () => {
	await env.ctl('rate', { test: 5 });
	const t0 = Date.now();
	const rs = await Promise.all(Array.from({ length: 12 }, () =>
	    env.get('/v1/balance')));
	/* A bucket of 5 that refills 5 a second: 5 go through at once, one
	 * more for each fifth of a second the calls took. */
	const most = 5 + Math.ceil((Date.now() - t0) / 200);
	const n200 = rs.filter((r) => r.status === 200).length;
	const n429 = rs.filter((r) => r.status === 429).length;
	assert.equal(n200 + n429, 12);
	assert.ok(n200 >= 5 && n200 <= most, n200 + ' answered, at most ' + most);
	assert.ok(rs.filter((r) => r.status === 429).every((r) =>
	    r.body.error.code === 'rate_limit'));
	assert.equal((await env.live.balance.retrieve()).object, 'balance',
	    'live mode has its own limit');
	await new Promise((r) => setTimeout(r, 1100));
	assert.equal((await env.get('/v1/balance')).status, 200, 'refilled');
	const { DEFAULT_RATES } = require('../lib/limits');
	assert.deepEqual(DEFAULT_RATES, { test: 25, live: 100 });
});

test('stall: the call is never answered until the client gives up',
    async () => {
	await env.ctl('faults', { mode: 'stall', count: 1 });
	const r = await env.raw('GET', '/v1/balance', { key: h.KEYS.test,
	    timeoutMs: 300 });
	assert.equal(r.error, 'timeout');
	assert.equal((await env.get('/v1/balance')).status, 200);
});

test('an unknown route is 404 "Unrecognized request URL"; writes are not modelled',
    async () => {
	const r = await env.get('/v1/nothing');
	assert.equal(r.status, 404);
	assert.match(r.body.error.message,
	    /^Unrecognized request URL \(GET: \/v1\/nothing\)\./);
	assert.equal((await env.get('/v1/balance/history')).status, 404);
	assert.equal((await env.raw('GET', '/elsewhere')).status, 404);
	const w = await env.raw('POST', '/v1/charges', { key: h.KEYS.test,
	    body: 'amount=100' });
	assert.equal(w.status, 400);
	assert.match(w.body.error.message, /does not model POST/);
});
