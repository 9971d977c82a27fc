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
	    destination: '@merchant', allow_overdraft: true,
	    description: 'import ' + ref }, over || {});
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
	assert.equal(bad.status, 404, 'internal/apierror/codes.go: 404');
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
	const q = d.body.data.find((x) => x.reference === 'pi_dup');
	assert.match(q.source, /^bln_/, 'stored rows hold resolved ids');
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
		['amount_gt=2.5', ['f_c']],
		['amount_gte=2.5&status_eq=QUEUED', ['f_b', 'f_c']],
		['amount_lt=2.5&status_eq=QUEUED', ['f_a']],
		['amount_lte=2.5&status_eq=QUEUED', ['f_a', 'f_b']],
		['reference_in=f_a,f_c,zz', ['f_a', 'f_c']],
		['reference_in=f_a%2Cf_b', ['f_a', 'f_b']],
		['amount_between=2%7C5&status_eq=QUEUED', ['f_b', 'f_c']],
		['reference_like=f_%25&currency_eq=USD', ['f_a', 'f_b']],
		['reference_ilike=F_A', ['f_a']],
		['reference_like=%25c', ['f_c']],
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
	    'amount_between=1', 'bad-field_eq=1', 'reference_isnull=1']) {
		const r = await api('GET', '/data/transactions?' + q);
		assert.equal(r.status, 400, q);
		assert.equal(r.body.error_detail.code, 'GEN_VALIDATION_ERROR');
	}
});

test('cloud/proxy/data-api.mdx: only the documented fields filter; reserved parameters are refused',
    async (t) => {
	const { api } = await fixture(t);
	for (const q of ['precise_amount_eq=1', 'description_ilike=%25fee%25',
	    'hash_eq=x', 'meta_data.1bad_eq=x', 'limit=5', 'offset=0',
	    'sort=created_at', 'order_by=x', 'per_page=3', 'org_id=o',
	    'pagesize=3']) {
		const r = await api('GET', '/data/transactions?' + q);
		assert.equal(r.status, 400, q);
	}
	for (const q of ['balance_id_eq=bln_x', 'parent_transaction_eq=x',
	    'effective_date_lt=2000-01-01T00:00:00Z', 'precision_eq=100',
	    'transaction_id_in=a,b'])
		assert.equal((await api('GET', '/data/transactions?' + q)).status,
		    200, q);
	assert.equal((await api('GET', '/data/balances?indicator_eq=x')).status,
	    200);
	assert.equal((await api('GET', '/data/identities?email_address_eq=x'))
	    .status, 200);
	assert.equal((await api('GET', '/data/ledgers?currency_eq=x')).status,
	    400);
});

test('cloud/proxy/data-api.mdx: default pageSize 30 for ledgers, 20 for the rest',
    async (t) => {
	const { api } = await fixture(t);
	for (let n = 0; n < 31; n++)
		await api('POST', '/proxy/ledgers', { name: 'L' + n });
	for (let n = 0; n < 21; n++)
		await api('POST', '/proxy/identities', { identity_type: 'x' });
	assert.equal((await api('GET', '/data/ledgers')).body.data.length, 30);
	assert.equal((await api('GET', '/data/identities')).body.data.length, 20);
	const f = await api('POST', '/ledger/filter', { filters: [] });
	assert.equal(f.body.data.length, 30);
	assert.equal(f.body.total, 32);
});

test('internal/filter/validation.go: balance_id on transactions is source or destination, eq/ne/in only',
    async (t) => {
	const { env, api } = await fixture(t);
	await importTxn(env, api, txn('bi_1'));
	const row = (await api('GET', '/data/transactions?reference_eq=bi_1'))
	    .body.data[0];
	const r = await api('GET', '/data/transactions?balance_id_eq=' +
	    row.destination);
	assert.deepEqual(r.body.data.map((x) => x.reference).sort(),
	    ['bi_1', 'bi_1_q']);
	assert.equal((await api('GET', '/data/transactions?balance_id_ne=' +
	    row.destination)).body.total, 0);
	assert.equal((await api('GET', '/data/transactions?balance_id_like=' +
	    'bln%25')).status, 400);
});

test('cloud/proxy/filters-api.mdx: POST /transactions/filter, paging in the query, estimate unless strict_total',
    async (t) => {
	const { env, api } = await fixture(t);
	await importTxn(env, api, txn('x_1', { precise_amount: 10 }));
	await importTxn(env, api, txn('x_2', { precise_amount: 20 }));
	const strict = (p) => p + (p.includes('?') ? '&' : '?') +
	    'strict_total=true';
	const r = await api('POST', strict('/transactions/filter'), { filters: [
		{ field: 'status', operator: 'eq', value: 'APPLIED' },
		{ field: 'amount', operator: 'gte', value: 0.15 },
	] });
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.body.data.map((x) => x.reference), ['x_2_q']);
	assert.equal(r.body.total, 1);
	assert.equal(r.body.total_is_estimate, false);
	assert.equal(r.body.total_source, 'exact');
	assert.deepEqual(r.body.stats, {});
	const est = await api('POST', '/transactions/filter', { filters: [] });
	assert.equal(est.body.total_is_estimate, true);
	assert.equal(est.body.total_source, 'estimate');
	assert.notEqual(est.body.total, 4, 'an estimate is not to be counted on');
	const inList = await api('POST', strict('/transactions/filter'),
	    { filters: [{ field: 'reference', operator: 'in',
	    values: ['x_1', 'x_2_q'] }] });
	assert.equal(inList.body.total, 2);
	const between = await api('POST',
	    strict('/transactions/filter?page=1&pageSize=1'), { filters: [
		{ field: 'amount', operator: 'between', values: [0.05, 0.15] }] });
	assert.equal(between.body.total, 2);
	assert.equal(between.body.data.length, 1);
	const nul = await api('POST', strict('/transactions/filter'), { filters: [
		{ field: 'meta_data.QUEUED_PARENT_TRANSACTION', operator: 'exists' },
		{ field: 'parent_transaction', operator: 'isnull' }] });
	assert.deepEqual(nul.body.data.map((x) => x.reference).sort(),
	    ['x_1', 'x_2']);
	for (const [p, body] of [
		['/transactions/filter', { filters: 'x' }],
		['/transactions/filter', {}],
		['/transactions/filter', { filters: [], page: 1 }],
		['/transactions/filter', { filters: [], pageSize: 5 }],
		['/transactions/filter?limit=5', { filters: [] }],
		['/transactions/filter', { filters: [{ field: 'reference',
		    operator: 'nope', value: 1 }] }],
		['/transactions/filter', { filters: [{ operator: 'eq',
		    value: 1 }] }],
		['/transactions/filter', { filters: [{ field: 'reference',
		    operator: 'eq' }] }],
		['/transactions/filter', { filters: [{ field: 'precise_amount',
		    operator: 'eq', value: 1 }] }],
		['/transactions/filter', { filters: [{ field: 'reference',
		    operator: 'exists' }] }],
		['/balances/filter?strict_total=true', { filters: [] }],
	]) {
		const bad = await api('POST', p, body);
		assert.equal(bad.status, 400, p + ' ' + JSON.stringify(body));
	}
	const bal = await api('POST', '/balances/filter', { filters: [
		{ field: 'indicator', operator: 'eq', value: '@merchant' }] });
	assert.equal(bal.body.total, 1);
	assert.deepEqual(Object.keys(bal.body).sort(), ['data', 'stats', 'total']);
	const idt = await api('POST', '/identities/filter', { filters: [
		{ field: 'identity_id', operator: 'isnotnull' }] });
	assert.deepEqual(Object.keys(idt.body).sort(), ['data', 'stats', 'total']);
	const led = await api('POST', '/ledger/filter', { filters: [
		{ field: 'name', operator: 'eq', value: 'General Ledger' }] });
	assert.deepEqual(led.body, { data: led.body.data, total: 1 });
	assert.equal((await api('POST', '/ledgers/filter', { filters: [] }))
	    .status, 404, 'the ledgers filter path is singular');
});

test('cloud/home/alerts-api.mdx + reference/*alert*.mdx: flag, update, get, list',
    async (t) => {
	const { env, api } = await fixture(t,
	    ['data:read', 'data:write', 'alerts:write']);
	await importTxn(env, api, txn('al_1'));
	const t1 = (await api('GET', '/data/transactions?reference_eq=al_1_q'))
	    .body.data[0];
	const f = await api('POST', '/alerts/flag/' + t1.transaction_id,
	    { description: 'po_123 failed' });
	assert.equal(f.status, 201, f.text);
	assert.match(f.body.anomaly_id, /^ano_/);
	assert.equal(f.body.type, 'Transaction');
	assert.equal(f.body.status, 'FLAGGED');
	assert.equal(f.body.title, '');
	assert.deepEqual(f.body.affected_transactions, [t1.transaction_id]);
	assert.deepEqual(f.body.affected_balances, []);
	assert.deepEqual(f.body.affected_identities, []);
	assert.deepEqual(f.body.escalated_to, []);
	const b = await api('POST', '/alerts/flag/' + t1.source,
	    { title: 'Balance', description: 'd' });
	assert.equal(b.body.type, 'Balance');
	assert.deepEqual(b.body.affected_balances, [t1.source]);
	const bad = [
		['/alerts/flag/txn_nope', { description: 'x' }, 404],
		['/alerts/flag/ldg_x', { description: 'x' }, 400],
		['/alerts/flag/' + t1.transaction_id, { title: 'x' }, 400],
		['/alerts/flag/' + t1.transaction_id, { description: 5 }, 400],
		['/alerts/flag/transaction/' + t1.transaction_id,
		    { description: 'x' }, 404],
	];
	for (const [p, body, status] of bad) {
		const r = await api('POST', p, body);
		assert.equal(r.status, status, p);
		assert.equal(typeof r.body.error, 'string', p);
	}
	const u = await api('PUT', '/alerts/flag/' + f.body.anomaly_id,
	    { title: 'Payout failed', status: 'RESOLVED' });
	assert.equal(u.status, 200);
	assert.equal(u.body.status, 'RESOLVED');
	assert.equal(u.body.title, 'Payout failed');
	assert.equal((await api('PUT', '/alerts/flag/' + f.body.anomaly_id,
	    { status: 'PENDING_REVIEW' })).status, 400, 'not a status yet');
	const s = await api('POST', '/alerts/statuses',
	    { name: 'Pending Review', colour: '#3B82F6' });
	assert.equal(s.status, 201, s.text);
	assert.equal(s.body.key, 'PENDING_REVIEW');
	assert.equal((await api('PUT', '/alerts/flag/' + f.body.anomaly_id,
	    { status: 'PENDING_REVIEW' })).body.status, 'PENDING_REVIEW');
	assert.equal((await api('PUT', '/alerts/flag/ano_nope',
	    { status: 'FLAGGED' })).status, 404);
	/* reading needs alerts:read: a second install with it */
	await env.ctl('reset');
	await env.ctl('register');
	const r = await env.ctl('install', { scopes: [] });
	assert.equal(r.status, 200);
	assert.equal((await env.call('GET', '/alerts', { token: r.body.api_key }))
	    .status, 403);
});

test('cloud/reference/*-alert-status.mdx: statuses: list with allowed_colours, create, update, delete',
    async (t) => {
	const env = await h.setup({ manifestPath: require('node:path').join(
	    __dirname, 'fixtures', 'manifest-all-scopes.json') });
	t.after(env.close);
	const i = await h.installed(env);
	const api = (method, p, body) => env.call(method, p,
	    { token: i.key, body });
	const l0 = await api('GET', '/alerts/statuses');
	assert.deepEqual(l0.body.data, []);
	assert.equal(l0.body.allowed_colours.length, 15);
	assert.ok(l0.body.allowed_colours.includes('#0EA5E9'));
	const c = await api('POST', '/alerts/statuses',
	    { name: 'Fraud review', colour: '#EF4444' });
	assert.equal(c.status, 201);
	assert.deepEqual(Object.keys(c.body).sort(), ['colour', 'created_at',
	    'key', 'name', 'organization_id', 'updated_at']);
	assert.equal(c.body.key, 'FRAUD_REVIEW');
	assert.match(c.body.organization_id, /^org_/);
	for (const body of [{ name: 'x', colour: '#000000' }, { colour: '#EF4444' },
	    { name: 'Fraud review', colour: '#EF4444' }])
		assert.notEqual((await api('POST', '/alerts/statuses', body)).status,
		    201, JSON.stringify(body));
	const u = await api('PUT', '/alerts/statuses/fraud_review',
	    { name: 'Fraud', colour: '#10B981' });
	assert.equal(u.status, 200, 'keys are case-insensitive');
	assert.equal(u.body.name, 'Fraud');
	await env.call('POST', i.q('/proxy/transactions'), { token: i.key,
	    body: txn('rd_1', { skip_queue: true }) });
	const tx = (await env.call('GET', i.q('/data/transactions'),
	    { token: i.key })).body.data[0];
	const f = await api('POST', '/alerts/flag/' + tx.transaction_id,
	    { title: 'Check me', description: 'd' });
	await api('PUT', '/alerts/flag/' + f.body.anomaly_id,
	    { status: 'FRAUD_REVIEW' });
	const del = await api('DELETE', '/alerts/statuses/FRAUD_REVIEW');
	assert.equal(del.status, 409);
	assert.equal(del.body.error, 'cannot delete status: 1 alert(s) use ' +
	    'this status - reassign them to another status first');
	await api('PUT', '/alerts/flag/' + f.body.anomaly_id,
	    { status: 'FLAGGED' });
	const ok = await api('DELETE', '/alerts/statuses/FRAUD_REVIEW');
	assert.deepEqual(ok.body, { message: 'Status deleted' });
	const list = await api('GET', '/alerts?status_eq=FLAGGED');
	assert.equal(list.status, 200);
	assert.equal(list.body.total, 1);
	const one = await api('GET', '/alerts/' + f.body.anomaly_id);
	assert.equal(one.body.title, 'Check me');
	assert.equal((await api('GET', '/alerts/ano_nope')).status, 404);
	const wrong = await env.call('GET', '/alerts?instance_id=inst_zzz',
	    { token: i.key });
	assert.equal(wrong.status, 403);
});

test('api/transactions.go CreateBulkTransactions over HTTP: 201 with batch_id, items read back',
    async (t) => {
	const { env, api } = await fixture(t);
	const r = await api('POST', '/proxy/transactions/bulk', { transactions:
	    [txn('bk_1'), txn('bk_2')] });
	assert.equal(r.status, 201, r.text);
	assert.match(r.body.batch_id, /^bulk_/);
	assert.equal(r.body.transaction_count, 2);
	await h.waitFor(async () => (await api('GET',
	    '/data/transactions?reference_in=bk_1_q,bk_2_q')).body.total === 2);
	const big = await api('POST', '/proxy/transactions/bulk',
	    { transactions: new Array(3000).fill(0).map((x, n) =>
	    txn('bb_' + n)), run_async: true });
	assert.equal(big.status, 202, 'a 3,000-item body is accepted');
	assert.equal(big.body.status, 'processing');
	await env.ctl('queue', { flush: true });
});

test('cloud-sim: POST /_sim/queue sets the queue delay at run time; a long one holds _q back',
    async (t) => {
	const { env, api } = await fixture(t);
	const s = await env.ctl('queue', { delay_ms: 2500 });
	assert.equal(s.status, 200);
	assert.equal(s.body.delay_ms, 2500);
	await api('POST', '/proxy/transactions', txn('slow'));
	await new Promise((r) => setTimeout(r, 1500));
	const d = await api('GET', '/data/transactions?reference_in=slow,slow_q');
	assert.deepEqual(d.body.data.map((x) => x.reference), ['slow']);
	const dump = await env.call('GET', '/_sim/core');
	assert.equal(dump.body.queue[0].reference, 'slow_q');
	await h.waitFor(async () => (await api('GET',
	    '/data/transactions?reference_eq=slow_q')).body.total === 1, 4000);
	assert.equal((await env.ctl('queue', { delay_ms: -1 })).status, 400);
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

test('/_sim/connections counts the connections gateway calls came on',
    async (t) => {
	const { env, i } = await fixture(t);
	const http = require('node:http');
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	t.after(() => agent.destroy());
	const before = (await env.get('/_sim/connections')).body;
	const one = (a) => new Promise((resolve, reject) => {
		http.get(env.base + i.q('/data/ledgers'), { agent: a,
		    headers: { Authorization: 'Bearer ' + i.key } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		}).on('error', reject);
	});
	for (let n = 0; n < 5; n++)
		assert.equal(await one(agent), 200);
	/* Without an agent: a connection each. */
	assert.equal(await one(false), 200);
	assert.equal(await one(false), 200);
	const after = (await env.get('/_sim/connections')).body;
	assert.equal(after.gateway_requests - before.gateway_requests, 7);
	assert.equal(after.gateway_connections - before.gateway_connections, 3);
});
