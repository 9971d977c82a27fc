'use strict';
/*
 * The in-memory Core model: the queue, unique references, @indicator
 * balances, overdraft, amounts and precision.  Direct calls, no HTTP.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { Core, amountToMinor, parsePrecision } = require('../lib/core');
const { jsonStringify } = require('../lib/http-util');

/* Returns a Core with a short queue, stopped after the test. */
function core(t) {
	const c = new Core({ queueDelayMs: 5 });
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
	    destination: '@cash', allow_overdraft: true }, over || {});
}

/* Returns the transactions with a reference. */
function byRef(c, ref) {
	return c.list('transactions').filter((x) => x.reference === ref);
}

test('queued path answers 201 QUEUED, then <ref>_q APPLIED', async (t) => {
	const c = core(t);
	const r = c.postTransaction(txn());
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'QUEUED');
	assert.equal(r.body.reference, 'ref-1');
	assert.match(r.body.transaction_id, /^txn_/);
	assert.equal(byRef(c, 'ref-1_q').length, 0, '_q row before the delay');
	await drain(c);
	const q = byRef(c, 'ref-1_q');
	assert.equal(q.length, 1);
	assert.equal(q[0].status, 'APPLIED');
	assert.equal(q[0].parent_transaction, r.body.transaction_id);
	assert.equal(q[0].precise_amount, 1050n);
	assert.equal(byRef(c, 'ref-1')[0].status, 'QUEUED');
});

test('queued duplicate reference answers 201 and is dropped', async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	await drain(c);
	const r = c.postTransaction(txn({ precise_amount: 999 }));
	assert.equal(r.status, 201);
	assert.equal(r.body.status, 'QUEUED');
	await drain(c);
	assert.equal(byRef(c, 'ref-1').length, 1);
	assert.equal(byRef(c, 'ref-1_q').length, 1);
	assert.equal(c.get('transactions', r.body.transaction_id), undefined);
	const cash = c.list('balances').find((b) => b.indicator === '@cash');
	assert.equal(cash.balance, 1050n, 'the dropped post moved money');
});

test('queued duplicate before the first is applied is dropped too',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	c.postTransaction(txn());
	await drain(c);
	assert.equal(byRef(c, 'ref-1_q').length, 1);
});

test('skip_queue duplicate reference answers 409 with Core body',
    async (t) => {
	const c = core(t);
	const a = c.postTransaction(txn({ skip_queue: true }));
	assert.equal(a.status, 201);
	assert.equal(a.body.status, 'APPLIED');
	assert.equal(a.body.reference, 'ref-1');
	const b = c.postTransaction(txn({ skip_queue: true }));
	assert.equal(b.status, 409);
	assert.equal(b.body.error_detail.code, 'TXN_DUPLICATE_REFERENCE');
	assert.equal(typeof b.body.error, 'string');
	assert.equal(typeof b.body.error_detail.message, 'string');
});

test('skip_queue duplicate of a queued reference answers 409', async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	const b = c.postTransaction(txn({ skip_queue: true }));
	assert.equal(b.status, 409);
});

test('@indicator source without overdraft is REJECTED', async (t) => {
	const c = core(t);
	c.postTransaction(txn({ allow_overdraft: undefined }));
	await drain(c);
	const q = byRef(c, 'ref-1_q')[0];
	assert.equal(q.status, 'REJECTED');
	assert.match(q.meta_data.blnk_rejection_reason, /insufficient funds/);
	const world = c.list('balances').find((b) => b.indicator === '@world');
	assert.equal(world.balance, 0n, 'a rejected txn moved money');
});

test('@indicator with overdraft is APPLIED, one balance per currency',
    async (t) => {
	const c = core(t);
	c.postTransaction(txn());
	c.postTransaction(txn({ reference: 'ref-2', currency: 'EUR' }));
	c.postTransaction(txn({ reference: 'ref-3' }));
	await drain(c);
	const ind = c.list('balances').filter((b) => b.indicator === '@world');
	assert.deepEqual(ind.map((b) => b.currency).sort(), ['EUR', 'USD']);
	const usd = ind.find((b) => b.currency === 'USD');
	assert.equal(usd.balance, -2100n);
	assert.equal(usd.debit_balance, 2100n);
	assert.equal(usd.ledger_id, 'general_ledger_id');
	assert.equal(c.balanceByIndicator('@world', 'EUR').status, 200);
	assert.equal(c.balanceByIndicator('@world', 'JPY').status, 404);
});

test('skip_queue insufficient funds answers 400 TXN_INSUFFICIENT_FUNDS',
    async (t) => {
	const c = core(t);
	const led = c.createLedger({ name: 'L' }).body;
	const b = c.createBalance({ ledger_id: led.ledger_id, currency: 'USD' })
	    .body;
	const r = c.postTransaction(txn({ source: b.balance_id,
	    allow_overdraft: false, skip_queue: true }));
	assert.equal(r.status, 400);
	assert.equal(r.body.error_detail.code, 'TXN_INSUFFICIENT_FUNDS');
	assert.equal(byRef(c, 'ref-1').length, 0, 'failed txn stored');
	/* the reference is still free */
	const ok = c.postTransaction(txn({ destination: b.balance_id,
	    skip_queue: true }));
	assert.equal(ok.status, 201);
	assert.equal(c.get('balances', b.balance_id).balance, 1050n);
	const spend = c.postTransaction(txn({ reference: 'ref-2',
	    source: b.balance_id, precise_amount: 1050, skip_queue: true,
	    allow_overdraft: false }));
	assert.equal(spend.status, 201, 'spending exactly the balance');
	assert.equal(c.get('balances', b.balance_id).balance, 0n);
});

test('transaction validation errors (table)', async (t) => {
	const c = core(t);
	const led = c.createLedger({ name: 'L' }).body;
	const eur = c.createBalance({ ledger_id: led.ledger_id,
	    currency: 'EUR' }).body;
	const cases = [
		['missing precision', { precision: undefined },
		    'TXN_PRECISION_NOT_INTEGER'],
		['precision not a power of 10', { precision: 50 },
		    'TXN_PRECISION_NOT_INTEGER'],
		['precision zero', { precision: 0 }, 'TXN_PRECISION_NOT_INTEGER'],
		['precision as string', { precision: '100' },
		    'TXN_PRECISION_NOT_INTEGER'],
		['precise_amount fractional', { precise_amount: 10.5 },
		    'TXN_INVALID_AMOUNT'],
		['precise_amount zero', { precise_amount: 0 }, 'TXN_INVALID_AMOUNT'],
		['precise_amount negative', { precise_amount: -5 },
		    'TXN_INVALID_AMOUNT'],
		['no amount at all', { precise_amount: undefined },
		    'TXN_INVALID_AMOUNT'],
		['amount finer than precision',
		    { precise_amount: undefined, amount: 1.005 },
		    'TXN_INVALID_AMOUNT'],
		['missing currency', { currency: '' }, 'TXN_VALIDATION_ERROR'],
		['missing reference', { reference: undefined },
		    'TXN_VALIDATION_ERROR'],
		['missing source', { source: undefined }, 'TXN_VALIDATION_ERROR'],
		['missing destination', { destination: undefined },
		    'TXN_VALIDATION_ERROR'],
		['source equals destination', { destination: '@world' },
		    'TXN_VALIDATION_ERROR'],
		['unknown balance', { source: 'bln_nope' }, 'BAL_NOT_FOUND'],
		['currency mismatch', { source: eur.balance_id },
		    'TXN_VALIDATION_ERROR'],
		['bare @', { source: '@' }, 'TXN_VALIDATION_ERROR'],
	];
	for (const [name, over, code] of cases) {
		const r = c.postTransaction(txn(over));
		assert.equal(r.status, 400, name);
		assert.equal(r.body.error_detail.code, code, name);
	}
	assert.equal(c.list('transactions').length, 0);
});

test('amount converts exactly under precision', () => {
	assert.equal(amountToMinor(10.5, 100n), 1050n);
	assert.equal(amountToMinor(0.1, 1000n), 100n);
	assert.equal(amountToMinor(1234, 1n), 1234n);
	assert.equal(amountToMinor(0.07, 100n), 7n);
	assert.equal(amountToMinor(1.5, 1n), null);
	assert.equal(amountToMinor(1e21, 1n), null);
	assert.equal(parsePrecision(1000), 1000n);
	assert.equal(parsePrecision(1), 1n);
	assert.equal(parsePrecision(110), null);
});

test('precise_amount as a digit string keeps big values exact', (t) => {
	const c = core(t);
	const r = c.postTransaction(txn({ precise_amount: '123456789012345678901',
	    skip_queue: true }));
	assert.equal(r.status, 201);
	assert.match(jsonStringify(r.body),
	    /"precise_amount":123456789012345678901[,}]/);
});

test('ledgers, balances, identities and metadata', (t) => {
	const c = core(t);
	assert.equal(c.createLedger({}).status, 400);
	const l = c.createLedger({ name: 'Stripe', meta_data: { a: 1 } });
	assert.equal(l.status, 201);
	assert.match(l.body.ledger_id, /^ldg_/);
	assert.equal(c.createBalance({ ledger_id: 'ldg_x', currency: 'USD' })
	    .body.error_detail.code, 'LGR_NOT_FOUND');
	assert.equal(c.createBalance({ ledger_id: l.body.ledger_id })
	    .status, 400);
	assert.equal(c.createIdentity({}).status, 400);
	const idt = c.createIdentity({ identity_type: 'organization',
	    organization_name: 'Acme' });
	assert.equal(idt.status, 201);
	assert.match(idt.body.identity_id, /^idt_/);
	const b = c.createBalance({ ledger_id: l.body.ledger_id,
	    currency: 'USD', identity_id: idt.body.identity_id });
	assert.equal(b.status, 201);
	assert.match(b.body.balance_id, /^bln_/);
	assert.equal(b.body.balance, 0n);
	const m = c.updateMetadata(b.body.balance_id,
	    { meta_data: { stripe: 'acct_1' } });
	assert.equal(m.status, 200);
	assert.deepEqual(c.get('balances', b.body.balance_id).meta_data,
	    { stripe: 'acct_1' });
	assert.equal(c.updateMetadata('bln_nope', { meta_data: {} }).status, 404);
	assert.equal(c.updateMetadata('zzz', { meta_data: {} }).status, 400);
	assert.equal(c.list('ledgers').length, 2, 'general ledger + one');
});
