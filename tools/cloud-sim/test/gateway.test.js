'use strict';
/*
 * The gateway over HTTP: keys, scopes, instance checks, Proxy, Data and
 * Filter APIs, alerts, injected faults and the audit log.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');

/* Sets up a simulator with one full install; returns {env, i, api}. */
async function fixture(t, scopes) {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env, scopes);
	const api = (method, p, body) => env.call(method, i.q(p),
	    { token: i.key, body });
	return { env, i, api };
}

/* Posts a transaction and waits for its _q row. */
async function importTxn(env, api, body) {
	const r = await api('POST', '/proxy/transactions', body);
	assert.equal(r.status, 201, r.text);
	await h.waitFor(async () => (await api('GET',
	    '/data/transactions?reference_eq=' + encodeURIComponent(
	    body.reference + '_q'))).body.total === 1);
	return r;
}

/* Returns a transaction body for reference ref. */
function txn(ref, over) {
	return Object.assign({ precise_amount: 1000, precision: 100,
	    currency: 'USD', reference: ref, source: '@stripe',
	    destination: '@merchant', allow_overdraft: true }, over || {});
}

test('401 for a missing, malformed or unknown key', async (t) => {
	const { env, i } = await fixture(t);
	const cases = [
		['no header', {}, 'AUTH_MISSING_API_KEY'],
		['not bearer', { headers: { Authorization: 'Basic abc' } },
		    'AUTH_MISSING_API_KEY'],
		['unknown key', { token: 'blnk_' + 'x'.repeat(40) },
		    'AUTH_INVALID_API_KEY'],
		['prefix only', { token: i.prefix }, 'AUTH_INVALID_API_KEY'],
	];
	for (const [name, opts, code] of cases) {
		const r = await env.call('GET', i.q('/data/ledgers'), opts);
		assert.equal(r.status, 401, name);
		assert.equal(r.body.error_detail.code, code, name);
		assert.equal(typeof r.body.error, 'string', name);
	}
});

test('403 when the scope was not granted (table)', async (t) => {
	const { api } = await fixture(t, ['data:read']);
	const cases = [
		['POST', '/proxy/ledgers', { name: 'x' }, 'data:write'],
		['POST', '/proxy/transactions', txn('r'), 'data:write'],
		['POST', '/alerts/flag/bln_x', { title: 't' }, 'alerts:write'],
		['PUT', '/alerts/flag/alt_x', { status: 'resolved' }, 'alerts:write'],
		['GET', '/alerts', undefined, 'alerts:read'],
		['GET', '/alerts/statuses', undefined, 'alerts:read'],
	];
	for (const [method, p, body, scope] of cases) {
		const r = await api(method, p, body);
		assert.equal(r.status, 403, method + ' ' + p);
		assert.equal(r.body.error_detail.code,
		    'AUTH_INSUFFICIENT_PERMISSIONS');
		assert.match(r.body.error, new RegExp(scope));
	}
	assert.equal((await api('GET', '/data/ledgers')).status, 200);
});

test('403 for data reads without data:read', async (t) => {
	const { api } = await fixture(t, ['data:write']);
	assert.equal((await api('GET', '/data/transactions')).status, 403);
	assert.equal((await api('POST', '/transactions/filter', {})).status, 403);
	assert.equal((await api('GET', '/proxy/ledgers')).status, 403);
	assert.equal((await api('POST', '/proxy/ledgers', { name: 'L' }))
	    .status, 201);
});

test('403 for a missing or wrong instance_id', async (t) => {
	const { env, i } = await fixture(t);
	const other = await env.ctl('install', { instance_id: 'inst_other' });
	assert.equal(other.status, 200);
	for (const p of ['/data/ledgers', '/proxy/ledgers',
	    '/data/ledgers?instance_id=inst_other',
	    '/data/ledgers?instance_id=' + i.inst + 'x']) {
		const r = await env.call('GET', p, { token: i.key });
		assert.equal(r.status, 403, p);
		assert.equal(r.body.error_detail.code, 'AUTH_CROSS_OWNER_ACCESS');
	}
	const f = await env.call('POST', '/transactions/filter',
	    { token: i.key, body: {} });
	assert.equal(f.status, 403);
	/* alerts do not need instance_id, but a wrong one is refused */
	const a = await env.call('GET', '/alerts/statuses', { token: i.key });
	assert.equal(a.status, 403, 'alerts:read not granted');
});

test('instances are isolated: each install sees its own Core',
    async (t) => {
	const { env, api } = await fixture(t);
	await api('POST', '/proxy/ledgers', { name: 'Mine' });
	const o = await env.ctl('install', { instance_id: 'inst_other' });
	const r = await env.call('GET', '/data/ledgers?instance_id=inst_other',
	    { token: o.body.api_key });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.data.map((l) => l.name), ['General Ledger']);
});

test('proxy creates ledgers, identities, balances; errors pass through',
    async (t) => {
	const { api } = await fixture(t);
	const l = await api('POST', '/proxy/ledgers', { name: 'Stripe' });
	assert.equal(l.status, 201);
	const idt = await api('POST', '/proxy/identities',
	    { identity_type: 'individual', first_name: 'Ada' });
	assert.equal(idt.status, 201);
	const b = await api('POST', '/proxy/balances', { ledger_id:
	    l.body.ledger_id, currency: 'USD',
	    identity_id: idt.body.identity_id });
	assert.equal(b.status, 201);
	assert.equal(b.body.balance, 0);
	const g = await api('GET', '/proxy/balances/' + b.body.balance_id);
	assert.equal(g.body.balance_id, b.body.balance_id);
	const bad = await api('POST', '/proxy/balances',
	    { ledger_id: 'ldg_nope', currency: 'USD' });
	assert.equal(bad.status, 400);
	assert.equal(bad.body.error_detail.code, 'LGR_NOT_FOUND');
	const missing = await api('GET', '/proxy/transactions/txn_nope');
	assert.equal(missing.status, 404);
	assert.equal(missing.body.error_detail.code, 'TXN_NOT_FOUND');
	const md = await api('POST', '/proxy/' + l.body.ledger_id + '/metadata',
	    { meta_data: { k: 'v' } });
	assert.equal(md.status, 200);
	assert.deepEqual(md.body.meta_data, { k: 'v' });
	const none = await api('GET', '/proxy/nothing/here');
	assert.equal(none.status, 404);
	assert.equal(none.body.error_detail.code, 'GEN_NOT_FOUND');
});

test('proxy rejects a body that is not a JSON object', async (t) => {
	const { api } = await fixture(t);
	for (const body of ['{', '[1]', 'null']) {
		const r = await api('POST', '/proxy/ledgers', body);
		assert.equal(r.status, 400, body);
		assert.equal(r.body.error_detail.code, 'GEN_MALFORMED_REQUEST');
	}
});

test('QUEUED then <ref>_q APPLIED, read back with reference_in',
    async (t) => {
	const { env, api } = await fixture(t);
	const r = await importTxn(env, api, txn('pi_1'));
	assert.equal(r.body.status, 'QUEUED');
	const d = await api('GET', '/data/transactions?reference_in=pi_1,pi_1_q');
	assert.equal(d.body.total, 2);
	const q = d.body.data.find((x) => x.reference === 'pi_1_q');
	assert.equal(q.status, 'APPLIED');
	assert.equal(q.precise_amount, 1000);
});

test('queued duplicate reference is silently dropped over HTTP',
    async (t) => {
	const { env, api } = await fixture(t);
	await importTxn(env, api, txn('pi_dup'));
	const again = await api('POST', '/proxy/transactions', txn('pi_dup'));
	assert.equal(again.status, 201);
	assert.equal(again.body.status, 'QUEUED');
	await new Promise((r) => setTimeout(r, 60));
	const d = await api('GET', '/data/transactions?reference_like=pi_dup%25');
	assert.equal(d.body.total, 2);
});

test('skip_queue duplicate answers 409 with the Core error body',
    async (t) => {
	const { api } = await fixture(t);
	const a = await api('POST', '/proxy/transactions',
	    txn('po_1', { skip_queue: true }));
	assert.equal(a.status, 201);
	assert.equal(a.body.status, 'APPLIED');
	const b = await api('POST', '/proxy/transactions',
	    txn('po_1', { skip_queue: true }));
	assert.equal(b.status, 409);
	assert.deepEqual(Object.keys(b.body).sort(), ['error', 'error_detail']);
	assert.equal(b.body.error_detail.code, 'TXN_DUPLICATE_REFERENCE');
});

test('@indicator source: REJECTED without overdraft, APPLIED with it',
    async (t) => {
	const { env, api } = await fixture(t);
	await importTxn(env, api, txn('no_od', { allow_overdraft: false }));
	await importTxn(env, api, txn('od_usd'));
	await importTxn(env, api, txn('od_eur', { currency: 'EUR' }));
	const q = await api('GET',
	    '/data/transactions?reference_in=no_od_q,od_usd_q,od_eur_q');
	const st = Object.fromEntries(q.body.data.map((x) =>
	    [x.reference, x.status]));
	assert.deepEqual(st, { no_od_q: 'REJECTED', od_usd_q: 'APPLIED',
	    od_eur_q: 'APPLIED' });
	const b = await api('GET',
	    '/data/balances?indicator_eq=%40stripe&pageSize=10');
	assert.deepEqual(b.body.data.map((x) => x.currency).sort(),
	    ['EUR', 'USD']);
	const usd = b.body.data.find((x) => x.currency === 'USD');
	assert.equal(usd.balance, -1000);
	const direct = await api('GET',
	    '/proxy/balances/indicator/%40stripe/currency/EUR');
	assert.equal(direct.status, 200);
	assert.equal(direct.body.balance, -1000);
});

test('data paging: page, pageSize, total, bad values', async (t) => {
	const { api } = await fixture(t);
	for (let n = 0; n < 7; n++)
		await api('POST', '/proxy/ledgers', { name: 'L' + n });
	const p1 = await api('GET', '/data/ledgers?page=1&pageSize=3');
	assert.equal(p1.body.total, 8, '7 + the general ledger');
	assert.deepEqual(p1.body.data.map((l) => l.name), ['L6', 'L5', 'L4']);
	const p3 = await api('GET', '/data/ledgers?page=3&pageSize=3');
	assert.deepEqual(p3.body.data.map((l) => l.name),
	    ['L0', 'General Ledger']);
	const p9 = await api('GET', '/data/ledgers?page=9&pageSize=3');
	assert.deepEqual(p9.body.data, []);
	assert.equal(p9.body.total, 8);
	const dflt = await api('GET', '/data/ledgers');
	assert.equal(dflt.body.data.length, 8);
	for (const q of ['page=0', 'page=x', 'pageSize=0', 'pageSize=101',
	    'pageSize=2.5']) {
		const r = await api('GET', '/data/ledgers?' + q);
		assert.equal(r.status, 400, q);
	}
	const one = await api('GET', '/data/ledgers/' + p1.body.data[0].ledger_id);
	assert.equal(one.status, 200);
	assert.equal(one.body.data.name, 'L6');
	assert.equal((await api('GET', '/data/ledgers/ldg_nope')).status, 404);
	assert.equal((await api('GET', '/data/accounts')).status, 404);
});

test('data filters: every suffix (table)', async (t) => {
	const { env, api } = await fixture(t);
	const rows = [
		['f_a', 100, 'USD', 'Pay-in Alpha', 'pi_1'],
		['f_b', 250, 'USD', 'pay-in beta', 'pi_2'],
		['f_c', 500, 'EUR', 'Payout gamma', 'po_1'],
	];
	for (const [ref, amt, cur, desc, sid] of rows)
		await importTxn(env, api, txn(ref, { precise_amount: amt,
		    currency: cur, description: desc,
		    meta_data: { app: { stripe_id: sid } } }));
	const cases = [
		['reference_eq=f_a', ['f_a']],
		['reference_ne=f_a&reference_like=f_%25', ['f_b', 'f_c']],
		['precise_amount_gt=250', ['f_c']],
		['precise_amount_gte=250&status_eq=QUEUED', ['f_b', 'f_c']],
		['precise_amount_lt=250&status_eq=QUEUED', ['f_a']],
		['precise_amount_lte=250&status_eq=QUEUED', ['f_a', 'f_b']],
		['reference_in=f_a,f_c,zz', ['f_a', 'f_c']],
		['reference_in=f_a%2Cf_b', ['f_a', 'f_b']],
		['precise_amount_between=200%7C500&status_eq=QUEUED',
		    ['f_b', 'f_c']],
		['description_like=Pay-in%25', ['f_a']],
		['description_ilike=pay-in%25', ['f_a', 'f_b']],
		['description_like=%25gamma', ['f_c']],
		['meta_data.app.stripe_id_eq=pi_2', ['f_b']],
		['meta_data.app.stripe_id_like=pi%25&status_eq=QUEUED',
		    ['f_a', 'f_b']],
		['currency_eq=EUR&status_eq=QUEUED', ['f_c']],
		['created_at_gte=2000-01-01T00:00:00Z&reference_in=f_a',
		    ['f_a']],
		['created_at_lt=2000-01-01T00:00:00Z', []],
	];
	for (const [q0, want] of cases) {
		/* only the QUEUED rows: the _q rows copy their fields */
		const q = q0.includes('status_eq') ? q0 : q0 + '&status_eq=QUEUED';
		const r = await api('GET', '/data/transactions?' + q);
		assert.equal(r.status, 200, q + ': ' + r.text);
		const got = r.body.data.map((x) => x.reference).sort();
		assert.deepEqual(got, want, q);
		assert.equal(r.body.total, want.length, q);
	}
	for (const q of ['reference=f_a', 'reference_foo=x',
	    'precise_amount_between=1', 'bad-field_eq=1']) {
		const r = await api('GET', '/data/transactions?' + q);
		assert.equal(r.status, 400, q);
		assert.equal(r.body.error_detail.code, 'GEN_VALIDATION_ERROR');
	}
});

test('transactions/filter with {filters:[{field, operator, value}]}',
    async (t) => {
	const { env, api } = await fixture(t);
	await importTxn(env, api, txn('x_1', { precise_amount: 10 }));
	await importTxn(env, api, txn('x_2', { precise_amount: 20 }));
	const r = await api('POST', '/transactions/filter', { filters: [
		{ field: 'status', operator: 'eq', value: 'APPLIED' },
		{ field: 'precise_amount', operator: 'gte', value: 15 },
	] });
	assert.equal(r.status, 200);
	assert.deepEqual(r.body.data.map((x) => x.reference), ['x_2_q']);
	assert.equal(r.body.total, 1);
	const inList = await api('POST', '/transactions/filter', { filters: [
		{ field: 'reference', operator: 'in', values: ['x_1', 'x_2_q'] },
	] });
	assert.equal(inList.body.total, 2);
	const between = await api('POST', '/transactions/filter', { filters: [
		{ field: 'precise_amount', operator: 'between', value: '5|15' },
	], pageSize: 1 });
	assert.equal(between.body.total, 2);
	assert.equal(between.body.data.length, 1);
	const all = await api('POST', '/transactions/filter', {});
	assert.equal(all.body.total, 4);
	for (const body of [{ filters: 'x' }, { filters: [{ field: 'a',
	    operator: 'nope', value: 1 }] }, { filters: [{ operator: 'eq',
	    value: 1 }] }, { filters: [{ field: 'a', operator: 'eq' }] }]) {
		const bad = await api('POST', '/transactions/filter', body);
		assert.equal(bad.status, 400, JSON.stringify(body));
	}
	const bal = await api('POST', '/balances/filter', { filters: [
		{ field: 'indicator', operator: 'eq', value: '@merchant' }] });
	assert.equal(bal.body.total, 1);
});

test('alerts: flag, list, get, update, statuses', async (t) => {
	const { env, api } = await fixture(t,
	    ['data:read', 'data:write', 'alerts:write']);
	await importTxn(env, api, txn('al_1'));
	const t1 = (await api('GET', '/data/transactions?reference_eq=al_1_q'))
	    .body.data[0];
	const f = await api('POST', '/alerts/flag/' + t1.transaction_id,
	    { title: 'Payout failed', description: 'po_123 failed' });
	assert.equal(f.status, 201, f.text);
	assert.match(f.body.alert_id, /^alt_/);
	assert.equal(f.body.entity_type, 'transaction');
	assert.equal(f.body.status, 'open');
	const bad = [
		['/alerts/flag/txn_nope', { title: 'x' }, 404],
		['/alerts/flag/ldg_x', { title: 'x' }, 400],
		['/alerts/flag/' + t1.transaction_id, { description: 'x' }, 400],
		['/alerts/flag/' + t1.transaction_id, { title: 5 }, 400],
	];
	for (const [p, body, status] of bad)
		assert.equal((await api('POST', p, body)).status, status, p);
	const u = await api('PUT', '/alerts/flag/' + f.body.alert_id,
	    { status: 'resolved' });
	assert.equal(u.status, 200);
	assert.equal(u.body.status, 'resolved');
	assert.equal((await api('PUT', '/alerts/flag/' + f.body.alert_id,
	    { status: 'bogus' })).status, 400);
	assert.equal((await api('PUT', '/alerts/flag/alt_nope',
	    { status: 'open' })).status, 404);
	/* reading needs alerts:read: a second install with it */
	await env.ctl('reset');
	await env.ctl('register');
	const r = await env.ctl('install', { scopes: [] });
	assert.equal(r.status, 200);
	assert.equal((await env.call('GET', '/alerts', { token: r.body.api_key }))
	    .status, 403);
});

test('alerts read with alerts:read', async (t) => {
	const env = await h.setup({ manifestPath: require('node:path').join(
	    __dirname, 'fixtures', 'manifest-all-scopes.json') });
	t.after(env.close);
	const i = await h.installed(env);
	const api = (method, p, body) => env.call(method, p,
	    { token: i.key, body });
	await env.call('POST', i.q('/proxy/transactions'), { token: i.key,
	    body: txn('rd_1', { skip_queue: true }) });
	const tx = (await env.call('GET', i.q('/data/transactions'),
	    { token: i.key })).body.data[0];
	const f = await api('POST', '/alerts/flag/' + tx.transaction_id,
	    { title: 'Check me' });
	assert.equal(f.status, 201);
	const list = await api('GET', '/alerts?status_eq=open');
	assert.equal(list.status, 200);
	assert.equal(list.body.total, 1);
	assert.equal(list.body.data[0].alert_id, f.body.alert_id);
	const one = await api('GET', '/alerts/' + f.body.alert_id);
	assert.equal(one.status, 200);
	assert.equal(one.body.title, 'Check me');
	assert.equal((await api('GET', '/alerts/alt_nope')).status, 404);
	const st = await api('GET', '/alerts/statuses');
	assert.deepEqual(st.body.data, ['open', 'acknowledged', 'resolved',
	    'dismissed']);
	const wrong = await env.call('GET', '/alerts?instance_id=inst_zzz',
	    { token: i.key });
	assert.equal(wrong.status, 403);
});

test('fault 429 answers with Retry-After for the next N calls only',
    async (t) => {
	const { env, api } = await fixture(t);
	const s = await env.ctl('faults', { mode: '429', count: 2,
	    retry_after: 3 });
	assert.equal(s.status, 200);
	for (let n = 0; n < 2; n++) {
		const r = await api('GET', '/data/ledgers');
		assert.equal(r.status, 429);
		assert.equal(r.headers['retry-after'], '3');
		assert.equal(r.body.error_detail.code, 'GEN_RATE_LIMITED');
	}
	assert.equal((await api('GET', '/data/ledgers')).status, 200);
	assert.equal((await env.get('/_sim/faults')).body.mode, 'none');
});

test('fault 500 and 503 with paths_prefix hit only matching paths',
    async (t) => {
	const { env, api } = await fixture(t);
	await env.ctl('faults', { mode: '500', count: 1, paths_prefix: '/proxy' });
	assert.equal((await api('GET', '/data/ledgers')).status, 200);
	const r = await api('POST', '/proxy/ledgers', { name: 'x' });
	assert.equal(r.status, 500);
	assert.equal(r.body.error_detail.code, 'GEN_INTERNAL');
	assert.equal((await api('POST', '/proxy/ledgers', { name: 'x' })).status,
	    201);
	await env.ctl('faults', { mode: '503', count: 1 });
	assert.equal((await api('GET', '/data/ledgers')).status, 503);
	await env.ctl('faults', { mode: '423', count: 5 });
	await env.ctl('faults', { mode: 'none' });
	assert.equal((await api('GET', '/data/ledgers')).status, 200);
	for (const body of [{ mode: '418' }, { mode: '429', count: -1 },
	    { mode: '429', paths_prefix: 5 }])
		assert.equal((await env.ctl('faults', body)).status, 400);
});

test('fault on an unauthenticated call does not fire', async (t) => {
	const { env, api } = await fixture(t);
	await env.ctl('faults', { mode: '429', count: 1 });
	const r = await env.call('GET', '/data/ledgers', {});
	assert.equal(r.status, 401);
	assert.equal((await api('GET', '/data/ledgers')).status, 429);
});

test('fault stall: no answer until the client gives up', async (t) => {
	const { env, i } = await fixture(t);
	await env.ctl('faults', { mode: 'stall', count: 1 });
	const r = await env.call('GET', i.q('/data/ledgers'),
	    { token: i.key, timeoutMs: 150 });
	assert.equal(r.error, 'timeout');
	const ok = await env.call('GET', i.q('/data/ledgers'), { token: i.key });
	assert.equal(ok.status, 200, 'only one call stalls');
	const audit = await h.waitFor(async () => {
		const a = (await env.get('/_sim/audit')).body.data;
		return a.find((e) => e.fault === 'stall') && a;
	});
	const e = audit.find((x) => x.fault === 'stall');
	assert.equal(e.status, 0);
});

test('stop() closes a stalled call promptly', async () => {
	const env = await h.setup();
	const i = await h.installed(env);
	await env.ctl('faults', { mode: 'stall', count: 1 });
	const pending = env.call('GET', i.q('/data/ledgers'), { token: i.key });
	await h.waitFor(() => env.sim.faults.state().mode === 'none');
	const started = Date.now();
	await env.close();
	const r = await pending;
	assert.ok(r.error, 'stalled call got an answer');
	assert.ok(Date.now() - started < 1000, 'stop took too long');
});

test('audit log records install id and key prefix, never the key',
    async (t) => {
	const { env, i, api } = await fixture(t);
	await api('GET', '/data/ledgers');
	await api('POST', '/proxy/ledgers', { name: 'A' });
	await env.call('GET', i.q('/data/ledgers'), { token: 'blnk_unknown' +
	    'z'.repeat(32) });
	await env.call('GET', i.q('/data/ledgers'), {});
	const a = await env.get('/_sim/audit');
	assert.equal(a.status, 200);
	assert.ok(!a.text.includes(i.key), 'full key in audit');
	const e = a.body.data;
	assert.equal(e.length, 4);
	assert.deepEqual(e.map((x) => [x.method, x.path, x.status]), [
		['GET', '/data/ledgers', 200], ['POST', '/proxy/ledgers', 201],
		['GET', '/data/ledgers', 401], ['GET', '/data/ledgers', 401]]);
	assert.equal(e[0].installed_app_id, i.id);
	assert.equal(e[0].api_key_prefix, i.prefix);
	assert.equal(e[0].instance_id, i.inst);
	assert.match(e[0].at, /^\d{4}-/);
	assert.equal(e[2].installed_app_id, null);
	assert.equal(e[2].api_key_prefix, 'blnk_unk');
	assert.equal(e[3].api_key_prefix, null);
	const page = await env.get('/dashboard/audit');
	assert.ok(page.text.includes(i.prefix));
	assert.ok(!page.text.includes(i.key));
	await env.ctl('reset');
	assert.deepEqual((await env.get('/_sim/audit')).body.data, []);
});

test('an oversized body is refused with 413', async (t) => {
	const { api } = await fixture(t);
	const r = await api('POST', '/proxy/ledgers',
	    '{"name":"' + 'x'.repeat(1024 * 1024 + 10) + '"}');
	assert.ok(r.status === 413 || r.error, 'not refused');
});
