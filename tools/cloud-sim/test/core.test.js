'use strict';
/*
 * The in-memory Core model, by direct calls (no HTTP).  Each test names
 * the Blnk Core source file (github.com/blnkfinance/blnk) the behaviour
 * comes from.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { Core, amountToMinor, classifyMessage } = require('../lib/core');
const { parseJson } = require('../lib/json');

/* Returns a Core with a short queue, stopped after the test. */
function core(t, delay) {
	const c = new Core({ queueDelayMs: delay === undefined ? 5 : delay });
	t.after(() => c.stop());
	return c;
}

/* Resolves once every queued transaction has been processed. */
async function drain(c) {
	while (c.pending() > 0)
		await new Promise((r) => setTimeout(r, 5));
}

/* Returns a valid transaction body, with overrides. */
function txn(over) {
	return Object.assign({ precise_amount: 1050, precision: 100,
	    currency: 'USD', reference: 'ref-1', source: '@world',
	    destination: '@cash', allow_overdraft: true,
	    description: 'test' }, over || {});
}

/* Posts a body given as JSON text, as the gateway would. */
function postText(c, text) {
	const p = parseJson(text);
	return c.postTransaction(p.value, p.floats);
}

/* Returns the transactions with a reference. */
function byRef(c, ref) {
	return c.list('transactions').filter((x) => x.reference === ref);
}

test('transaction_queue.go: 201 QUEUED as sent; QUEUED row with bln_ ids; then <ref>_q APPLIED',
    async (t) => {
	const c = core(t);
	const r = c.postTransaction(txn());
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'QUEUED');
	assert.equal(r.body.source, '@world', 'the answer shows what was sent');
	assert.equal(r.body.meta_data.QUEUED_PARENT_TRANSACTION,
	    r.body.transaction_id);
	assert.equal(r.body.meta_data.allow_overdraft, true);
	assert.equal(byRef(c, 'ref-1').length, 0, 'stored later, not at once');
	await drain(c);
	const row = byRef(c, 'ref-1')[0];
	assert.equal(row.status, 'QUEUED');
	assert.match(row.source, /^bln_/);
	assert.match(row.destination, /^bln_/);
	const q = byRef(c, 'ref-1_q');
	assert.equal(q.length, 1);
	assert.equal(q[0].status, 'APPLIED');
	assert.equal(q[0].parent_transaction, r.body.transaction_id);
	assert.equal(q[0].precise_amount, 1050n);
	assert.equal(q[0].source, row.source);
});

test('transaction_queue.go + cmd/workers.go: a used reference on the queued path answers 201, then nothing',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	await drain(c);
	const r = c.postTransaction(txn({ precise_amount: 999 }));
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'QUEUED');
	await drain(c);
	assert.equal(byRef(c, 'ref-1').length, 1);
	assert.equal(byRef(c, 'ref-1_q').length, 1);
	assert.match(c.dropped[0].reason, /already been used/);
});

test('transaction_queue.go: an unknown balance id on the queued path answers 201 QUEUED, then no row at all',
    async (t) => {
	const c = core(t);
	const r = c.postTransaction(txn({ destination: 'bln_nope' }));
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'QUEUED');
	await drain(c);
	assert.equal(byRef(c, 'ref-1').length, 0);
	assert.equal(byRef(c, 'ref-1_q').length, 0);
	assert.match(c.dropped[0].reason, /Balance with ID 'bln_nope' not found/);
});

test('transaction_dryrun.go: Core never checks currencies: a mismatch is applied as raw minor units',
    async (t) => {
	const c = core(t);
	const l = c.createLedger({ name: 'L' }).body;
	const eur = c.createBalance({ ledger_id: l.ledger_id, currency: 'EUR' })
	    .body;
	const r = c.postTransaction(txn({ destination: eur.balance_id }));
	assert.equal(r.status, 201);
	await drain(c);
	assert.equal(byRef(c, 'ref-1_q')[0].status, 'APPLIED');
	assert.equal(c.get('balances', eur.balance_id).balance, 1050n);
	assert.equal(c.get('balances', eur.balance_id).currency, 'EUR');
});

test('cmd/workers.go + transaction_rejection.go: insufficient funds: <ref>_q REJECTED with blnk_rejection_reason',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn({ allow_overdraft: false }));
	await drain(c);
	const q = byRef(c, 'ref-1_q')[0];
	assert.equal(q.status, 'REJECTED');
	assert.match(q.meta_data.blnk_rejection_reason, /insufficient funds/);
	assert.equal(c.list('balances').find((b) => b.indicator === '@world')
	    .balance, 0n);
});

test('model/model.go: overdraft_limit lets a source go that far below zero, no further',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn({ allow_overdraft: false, overdraft_limit: 10.5,
	    reference: 'a' }));
	c.postTransaction(txn({ allow_overdraft: false, overdraft_limit: 10.5,
	    reference: 'b', precise_amount: 1 }));
	await drain(c);
	assert.equal(byRef(c, 'a_q')[0].status, 'APPLIED');
	assert.equal(byRef(c, 'b_q')[0].status, 'REJECTED');
	assert.match(byRef(c, 'b_q')[0].meta_data.blnk_rejection_reason,
	    /exceeds overdraft limit/);
});

test('balance.go getOrCreateBalanceByIndicator: one @indicator balance per currency, general ledger',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn({ reference: 'u' }));
	c.postTransaction(txn({ reference: 'e', currency: 'EUR' }));
	await drain(c);
	const world = c.list('balances').filter((b) => b.indicator === '@world');
	assert.deepEqual(world.map((b) => b.currency).sort(), ['EUR', 'USD']);
	assert.ok(world.every((b) => b.ledger_id === 'general_ledger_id'));
	assert.ok(world.every((b) => b.balance === -1050n));
});

test('transaction_execution.go: skip_queue applies at once with resolved ids; 409 for a used reference',
    (t) => {
	const c = core(t);
	const r = c.postTransaction(txn({ skip_queue: true }));
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'APPLIED');
	assert.match(r.body.source, /^bln_/);
	assert.equal(r.body.meta_data.QUEUED_PARENT_TRANSACTION, undefined);
	assert.equal(byRef(c, 'ref-1_q').length, 0);
	const d = c.postTransaction(txn({ skip_queue: true }));
	assert.equal(d.status, 409);
	assert.equal(d.body.error_detail.code, 'TXN_DUPLICATE_REFERENCE');
	assert.match(d.body.error, /reference ref-1 has already been used/);
});

test('transaction_execution.go + api/errors.go: skip_queue unknown balance is 404 TXN_NOT_FOUND, short funds 400',
    (t) => {
	const c = core(t);
	const nf = c.postTransaction(txn({ skip_queue: true,
	    destination: 'bln_x' }));
	assert.equal(nf.status, 404);
	assert.equal(nf.body.error_detail.code, 'TXN_NOT_FOUND');
	assert.equal(nf.body.error, 'Balance with ID \'bln_x\' not found');
	const r = c.postTransaction(txn({ skip_queue: true,
	    allow_overdraft: false }));
	assert.equal(r.status, 400);
	assert.equal(r.body.error_detail.code, 'TXN_INSUFFICIENT_FUNDS');
	assert.equal(byRef(c, 'ref-1').length, 0, 'reference stays free');
	assert.equal(c.postTransaction(txn({ skip_queue: true })).status, 201);
});

test('transaction_execution.go: a zero amount is answered but never stored', async (t) => {
	const c = core(t);
	assert.equal(c.postTransaction(txn({ precise_amount: 0,
	    skip_queue: true })).status, 201);
	assert.equal(byRef(c, 'ref-1').length, 0);
	c.postTransaction(txn({ precise_amount: 0, reference: 'z' }));
	await drain(c);
	assert.equal(byRef(c, 'z').length, 1);
	assert.equal(byRef(c, 'z_q').length, 0);
});

test('api/transactions.go QueueTransaction: JSON types as Go decodes them: 400 GEN_MALFORMED_REQUEST "Invalid input"',
    (t) => {
	const c = core(t);
	const base = JSON.stringify(txn()).slice(1, -1);
	for (const bad of ['"precise_amount":"1050"', '"precise_amount":1050.0',
	    '"precise_amount":1e3', '"precision":"100"', '"description":7',
	    '"allow_overdraft":"yes"', '"meta_data":[1]',
	    '"effective_date":"2024-01-02"', '"skip_queue":1']) {
		const text = '{' + base.replace(/"precise_amount":1050/, '') +
		    (base.includes('precise_amount') ? '' : '') + ',' + bad + '}';
		const body = '{' + base + ',' + bad + '}';
		const r = postText(c, bad.startsWith('"precise_amount"') ?
		    text.replace('{,', '{') : body);
		assert.equal(r.status, 400, bad);
		assert.equal(r.body.error_detail.code, 'GEN_MALFORMED_REQUEST', bad);
		assert.equal(r.body.error, 'Invalid input', bad);
	}
	const ok = postText(c, '{' + base + ',"effective_date":' +
	    '"2024-01-02T03:04:05+01:00","unknown_field":1}');
	assert.equal(ok.status, 201);
});

test('math/big Int.UnmarshalJSON: precise_amount beyond 2^53 stays exact', async (t) => {
	const c = core(t);
	const r = postText(c, '{"precise_amount":123456789012345678901,' +
	    '"precision":100,"currency":"USD","reference":"big",' +
	    '"source":"@a","destination":"@b","allow_overdraft":true,' +
	    '"description":"d"}');
	assert.equal(r.status, 201);
	assert.equal(r.body.precise_amount, 123456789012345678901n);
});

test('api/model/model.go ValidateRecordTransaction: 400 TXN_VALIDATION_ERROR under "errors" (table)',
    (t) => {
	const c = core(t);
	const rows = [
		[{ description: '' }, 'description: cannot be blank.'],
		[{ description: undefined }, 'description: cannot be blank.'],
		[{ amount: 10.5 }, 'amount: either amount or precise_amount ' +
		    'should be provided, not both.'],
		[{ precise_amount: undefined }, 'amount: either amount or ' +
		    'precise_amount is required.'],
		[{ precise_amount: -5 }, 'amount: precise_amount cannot be ' +
		    'negative.'],
		[{ precise_amount: undefined, amount: -1 }, 'amount: amount ' +
		    'cannot be negative.'],
		[{ precise_amount: undefined, amount: 1234567890.1234567 },
		    /more than 15 significant digits/],
		[{ precision: -100 }, 'precision: precision cannot be negative.'],
		[{ currency: '', reference: '' }, 'currency: cannot be blank; ' +
		    'reference: cannot be blank.'],
		[{ source: undefined }, 'source: either source or sources is ' +
		    'required, not both.'],
		[{ destination: '@world' }, 'destination: source and ' +
		    'destination cannot be the same balance.'],
	];
	for (const [over, want] of rows) {
		const r = c.postTransaction(txn(over));
		assert.equal(r.status, 400, JSON.stringify(over));
		assert.equal(r.body.error_detail.code, 'TXN_VALIDATION_ERROR');
		if (want instanceof RegExp)
			assert.match(r.body.errors, want);
		else
			assert.equal(r.body.errors, want);
		assert.equal(r.body.error, undefined, 'the key is "errors"');
	}
	const p = c.postTransaction(txn({ precision: 100.5 }));
	assert.equal(p.status, 400);
	assert.equal(p.body.error_detail.code, 'TXN_PRECISION_NOT_INTEGER');
});

test('model.ApplyPrecision: amount converts under precision; zero precision means 1', (t) => {
	assert.equal(amountToMinor(10.5, 100n), 1050n);
	assert.equal(amountToMinor(0.1, 1000n), 100n);
	assert.equal(amountToMinor(10.555, 100n), null);
	assert.equal(amountToMinor(5, 1n), 5n);
	const c = core(t);
	const r = c.postTransaction(txn({ precise_amount: undefined,
	    amount: 7, precision: 0 }));
	assert.equal(r.status, 201);
	assert.equal(r.body.precision, 1);
	assert.equal(r.body.precise_amount, 7n);
});

test('cloud-sim: inflight, scheduled, split and dry-run posts are refused 501 (not modelled)', (t) => {
	const c = core(t);
	for (const over of [{ inflight: true },
	    { scheduled_for: '2030-01-01T00:00:00Z' }, { dry_run: true }]) {
		const r = c.postTransaction(txn(over));
		assert.equal(r.status, 501, JSON.stringify(over));
		assert.equal(r.body.error_detail.code, 'SIM_NOT_MODELLED');
	}
});

test('api/transactions.go CreateBulkTransactions: empty, over 10,000, bad item (with index)', (t) => {
	const c = core(t);
	let r = c.postBulk({ transactions: [] }, new Set());
	assert.equal(r.status, 400);
	assert.equal(r.body.error_detail.code, 'TXN_BULK_EMPTY');
	r = c.postBulk({ transactions: new Array(10001).fill(txn()) }, new Set());
	assert.equal(r.body.error_detail.code, 'TXN_BULK_LIMIT_EXCEEDED');
	r = c.postBulk({ transactions: [txn(), txn({ description: '' })] },
	    new Set());
	assert.equal(r.status, 400);
	assert.equal(r.body.errors, 'transactions[1]: description: cannot be ' +
	    'blank.');
	assert.deepEqual(r.body.error_detail.details, { index: 1 });
	const p = parseJson('{"transactions":[' + JSON.stringify(txn()) +
	    ',{"precise_amount":"5"}]}');
	r = c.postBulk(p.value, p.floats);
	assert.equal(r.body.error_detail.code, 'GEN_MALFORMED_REQUEST');
	assert.equal(c.pending(), 0, 'nothing ran');
});

test('transaction_bulk.go: a queued batch answers 201 applied; items carry the batch id and sequence',
    async (t) => {
	const c = core(t);
	const r = c.postBulk({ transactions: [txn({ reference: 'b1' }),
	    txn({ reference: 'b2', skip_queue: true })] }, new Set());
	assert.equal(r.status, 201);
	assert.match(r.body.batch_id, /^bulk_/);
	assert.equal(r.body.status, 'applied');
	assert.equal(r.body.transaction_count, 2);
	await drain(c);
	for (const [ref, seq] of [['b1', 1], ['b2', 2]]) {
		const row = byRef(c, ref)[0];
		assert.equal(row.status, 'QUEUED', 'the item skip_queue is overridden');
		assert.equal(row.parent_transaction, r.body.batch_id);
		assert.equal(row.meta_data.sequence, seq);
		assert.equal(row.meta_data.QUEUED_PARENT_TRANSACTION,
		    r.body.batch_id);
		assert.equal(byRef(c, ref + '_q')[0].status, 'APPLIED');
	}
});

test('transaction_bulk.go: skip_queue batch stops at the failing item; atomic refunds the ones before',
    (t) => {
	const c = core(t);
	const items = () => [txn({ reference: 'k1' }),
	    txn({ reference: 'k2', allow_overdraft: false }),
	    txn({ reference: 'k3' })];
	let r = c.postBulk({ transactions: items(), skip_queue: true },
	    new Set());
	assert.equal(r.status, 400);
	assert.equal(r.body.error_detail.code, 'TXN_INSUFFICIENT_FUNDS');
	assert.match(r.body.error, /^failed to queue transaction 2 \(Reference: k2/);
	assert.match(r.body.error, /Previous transactions were not rolled back\.$/);
	assert.deepEqual(r.body.error_detail.details, { batch_id: r.body.batch_id });
	assert.equal(byRef(c, 'k1')[0].status, 'APPLIED');
	assert.equal(byRef(c, 'k3').length, 0);
	const c2 = core(t);
	r = c2.postBulk({ transactions: items(), skip_queue: true, atomic: true },
	    new Set());
	assert.match(r.body.error, /All transactions in this batch have been refunded\.$/);
	const k1 = byRef(c2, 'k1')[0];
	const refund = byRef(c2, k1.transaction_id + '_refund')[0];
	assert.equal(refund.status, 'APPLIED');
	assert.equal(refund.source, k1.destination);
	assert.equal(c2.list('balances').find((b) => b.indicator === '@cash')
	    .balance, 0n);
});

test('transaction_bulk.go: run_async answers 202 processing and runs later', async (t) => {
	const c = core(t);
	const r = c.postBulk({ transactions: [txn()], run_async: true },
	    new Set());
	assert.equal(r.status, 202);
	assert.deepEqual(Object.keys(r.body).sort(), ['batch_id', 'message',
	    'status']);
	assert.equal(r.body.status, 'processing');
	assert.equal(byRef(c, 'ref-1').length, 0);
	await drain(c);
	assert.equal(byRef(c, 'ref-1_q')[0].status, 'APPLIED');
});

test('api/errors.go classifyMessage: codes in Core\'s order', () => {
	assert.equal(classifyMessage('failed to queue transaction 1 (...): ' +
	    'Balance with ID \'x\' not found'), 'TXN_NOT_FOUND');
	assert.equal(classifyMessage('reference r has already been used'),
	    'TXN_DUPLICATE_REFERENCE');
	assert.equal(classifyMessage('transaction exceeds overdraft limit'),
	    null);
});

test('cloud-sim: the queue delay is a knob; a long one holds <ref>_q back until flushed',
    async (t) => {
	const c = core(t, 50);
	c.setQueueDelay(3000);
	c.postTransaction(txn());
	await new Promise((r) => setTimeout(r, 1200));
	assert.equal(byRef(c, 'ref-1').length, 1, 'the QUEUED row is there');
	assert.equal(byRef(c, 'ref-1_q').length, 0, 'no _q row after 1.2 s');
	c.flushQueue();
	assert.equal(byRef(c, 'ref-1_q')[0].status, 'APPLIED');
});

test('api/errors.go statusByCode: LGR_NOT_FOUND and IDT_NOT_FOUND are 404', (t) => {
	const c = core(t);
	assert.equal(c.createBalance({ ledger_id: 'ldg_x', currency: 'USD' })
	    .status, 404);
	const l = c.createLedger({ name: 'L' }).body;
	assert.equal(c.createBalance({ ledger_id: l.ledger_id, currency: 'USD',
	    identity_id: 'idt_x' }).status, 404);
});

test('ledgers, balances, identities and metadata', (t) => {
	const c = core(t);
	const l = c.createLedger({ name: 'L', meta_data: { a: 1 } });
	assert.equal(l.status, 201);
	assert.match(l.body.ledger_id, /^ldg_/);
	assert.equal(c.createLedger({}).status, 400);
	const i = c.createIdentity({ identity_type: 'individual' });
	assert.equal(i.status, 201);
	const b = c.createBalance({ ledger_id: l.body.ledger_id,
	    currency: 'USD', identity_id: i.body.identity_id });
	assert.equal(b.status, 201);
	assert.equal(b.body.balance, 0n);
	const m = c.updateMetadata(b.body.balance_id, { meta_data: { x: 2 } });
	assert.equal(m.status, 200);
	assert.deepEqual(m.body.meta_data, { x: 2 });
	assert.equal(c.updateMetadata('bln_nope', { meta_data: {} }).status, 404);
	assert.equal(c.updateMetadata('foo', { meta_data: {} }).status, 400);
});

test('toState/loadState: a Core comes back with exact amounts and its queue', async (t) => {
	const c = core(t, 10000);
	c.postTransaction(txn({ skip_queue: true, reference: 's',
	    precise_amount: 9007199254740993n }));
	c.postTransaction(txn({ reference: 'q' }));
	await new Promise((r) => setTimeout(r, 20));
	const text = require('../lib/http-util').jsonStringify(c.toState());
	const d = core(t, 5);
	d.loadState(parseJson(text).value);
	assert.equal(byRef(d, 's')[0].precise_amount, 9007199254740993n);
	assert.equal(d.list('balances').find((b) => b.indicator === '@cash')
	    .balance, 9007199254740993n);
	await drain(d);
	assert.equal(byRef(d, 'q_q')[0].status, 'APPLIED');
});

/* Returns the balance of an @indicator in USD. */
function bal(c, indicator) {
	return c.balances.get(c.indicators.get(indicator + '|USD')).balance;
}

test('/_sim/tamper (test-only, no Core source): delete undoes the movement and frees the reference',
    async (t) => {
	const c = core(t);
	assert.equal(c.postTransaction(txn()).status, 201);
	await drain(c);
	assert.equal(bal(c, '@cash'), 1050n);
	const r = c.tamper({ op: 'delete', reference: 'ref-1' });
	assert.equal(r.status, 200);
	assert.equal(r.body.transactions.length, 2);
	assert.equal(bal(c, '@cash'), 0n);
	assert.equal(c.references.has('ref-1'), false);
	assert.equal(c.tamper({ op: 'delete', reference: 'ref-1' }).status, 404);
});

test('/_sim/tamper: amount changes both rows and moves the balances by the difference',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	await drain(c);
	assert.equal(c.tamper({ op: 'amount', reference: 'ref-1',
	    precise_amount: 1000 }).status, 200);
	const rows = Array.from(c.transactions.values());
	assert.deepEqual(rows.map((x) => x.precise_amount), [1000n, 1000n]);
	assert.equal(bal(c, '@cash'), 1000n);
	assert.equal(c.tamper({ op: 'amount', reference: 'ref-1',
	    precise_amount: -5 }).status, 400);
	assert.equal(c.tamper({ op: 'amount', reference: 'ref-1',
	    currency: 'GBP' }).status, 200);
	assert.deepEqual(Array.from(c.transactions.values()).map((x) =>
	    [x.currency, x.precise_amount]), [['GBP', 1000n], ['GBP', 1000n]]);
	assert.equal(bal(c, '@cash'), 1000n);
});

test('/_sim/tamper: add plants one APPLIED row; a used reference is a 409',
    (t) => {
	const c = core(t);
	const r = c.tamper({ op: 'add', reference: 'stripe.txn_x.gross',
	    precise_amount: 700, currency: 'USD', source: '@stripe',
	    destination: '@world' });
	assert.equal(r.status, 200);
	const row = c.get('transactions', r.body.transactions[0]);
	assert.equal(row.status, 'APPLIED');
	assert.equal(row.precise_amount, 700n);
	assert.equal(bal(c, '@stripe'), -700n);
	assert.equal(c.tamper({ op: 'add', reference: 'stripe.txn_x.gross' })
	    .status, 409);
	assert.equal(c.tamper({ op: 'nope', reference: 'x' }).status, 400);
});
