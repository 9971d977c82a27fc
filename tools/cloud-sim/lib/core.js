'use strict';
/*
 * An in-memory model of one Blnk Core instance: ledgers, balances,
 * identities and transactions, with the semantics an importer depends on,
 * each taken from Core's source (paths in the comments below and in
 * README.md): the queued path (201 QUEUED at once; balances resolved and
 * the row stored later; "<reference>_q" APPLIED or REJECTED after the
 * queue delay), unique references, "@indicator" balances, funds and
 * overdraft, skip_queue, bulk.
 *
 * Every method returns {status, body}; error bodies are Core's
 * {error|errors, error_detail: {code, message[, details]}}.  Amounts are
 * BigInt inside.
 */

const crypto = require('node:crypto');
const { coreErrorBody } = require('./http-util');
const input = require('./txn-input');

const GENERAL_LEDGER_ID = 'general_ledger_id';

/* Returns a new id such as "txn_<uuid>". */
function newId(prefix) {
	return prefix + '_' + crypto.randomUUID();
}

/* Returns {status, body} for a success. */
function ok(status, body) {
	return { status, body };
}

/* Returns {status, body} for a Core error. */
function fail(status, code, message) {
	return { status, body: coreErrorBody(code, message) };
}

/* Returns true when v is a plain object (not null, not an array). */
function isObject(v) {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/* Returns true when s is a non-empty string. */
function isText(s) {
	return typeof s === 'string' && s.length > 0;
}

/* Returns the decimal amount (a float, as Core shows it) of minor units. */
function minorToAmount(minor, precision) {
	return Number(minor) / Number(precision);
}

/*
 * Converts a decimal amount to minor units under precision, exactly.
 * Returns the BigInt, or null when the amount has more decimals than the
 * precision allows (the simulator refuses those rather than round them).
 */
function amountToMinor(amount, precision) {
	if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0)
		return null;
	const text = amount.toString();
	if (!/^[0-9]+(\.[0-9]+)?$/.test(text))
		return null;
	const [whole, frac = ''] = text.split('.');
	const digits = precision.toString().length - 1;
	if (!/^10*$/.test(precision.toString()) || frac.length > digits)
		return null;
	return BigInt(whole + frac.padEnd(digits, '0'));
}

/* The amount fields of a balance (BigInts). */
const BALANCE_AMOUNTS = ['balance', 'credit_balance', 'debit_balance',
    'inflight_balance', 'inflight_credit_balance', 'inflight_debit_balance'];

/* The rejection reason Core's queue worker records (cmd/workers.go). */
const INSUFFICIENT = 'failed to apply transaction to balances: ' +
    'insufficient funds in source balance';
const OVER_LIMIT = 'failed to apply transaction to balances: ' +
    'transaction exceeds overdraft limit';

/* Core's cap on one bulk request (api/model/transaction.go). */
const MAX_BULK = 10000;

/* HTTP status per error code (internal/apierror/codes.go statusByCode). */
const STATUS_BY_CODE = {
	GEN_MALFORMED_REQUEST: 400, GEN_VALIDATION_ERROR: 400,
	GEN_MISSING_PARAMETER: 400, GEN_BAD_REQUEST: 400, GEN_NOT_FOUND: 404,
	GEN_CONFLICT: 409, GEN_RESOURCE_LOCKED: 423, GEN_PAYLOAD_TOO_LARGE: 413,
	GEN_RATE_LIMITED: 429, GEN_INTERNAL: 500,
	TXN_NOT_FOUND: 404, TXN_INSUFFICIENT_FUNDS: 400, TXN_INVALID_AMOUNT: 400,
	TXN_PRECISION_NOT_INTEGER: 400, TXN_DUPLICATE_REFERENCE: 409,
	TXN_BULK_EMPTY: 400, TXN_BULK_LIMIT_EXCEEDED: 400,
	TXN_VALIDATION_ERROR: 400, BAL_NOT_FOUND: 404, BAL_VALIDATION_ERROR: 400,
	LGR_NOT_FOUND: 404, IDT_NOT_FOUND: 404, IDT_VALIDATION_ERROR: 400,
	META_ENTITY_NOT_FOUND: 404, META_UNSUPPORTED_ENTITY: 400,
	META_INVALID_ENTITY_ID: 400, QUEUE_BACKPRESSURE: 503,
};

/*
 * Core's classification of an error message (api/errors.go
 * messagePatterns, in order: all substrings must occur).
 */
const MESSAGE_PATTERNS = [
	[['transaction', 'not found'], 'TXN_NOT_FOUND'],
	[['has already been used'], 'TXN_DUPLICATE_REFERENCE'],
	[['insufficient funds'], 'TXN_INSUFFICIENT_FUNDS'],
	[['transaction amount must be positive'], 'TXN_INVALID_AMOUNT'],
	[['transaction validation failed'], 'TXN_VALIDATION_ERROR'],
	[['reference is required'], 'TXN_VALIDATION_ERROR'],
	[['balance validation failed'], 'BAL_VALIDATION_ERROR'],
	[['entity not found'], 'META_ENTITY_NOT_FOUND'],
	[['failed to acquire lock'], 'GEN_RESOURCE_LOCKED'],
	[['not found'], 'GEN_NOT_FOUND'],
];

/* Returns the code Core gives a message, or null. */
function classifyMessage(msg) {
	for (const [subs, code] of MESSAGE_PATTERNS)
		if (subs.every((x) => msg.includes(x)))
			return code;
	return null;
}

class Core {
	/*
	 * opts.queueDelayMs: delay before a queued transaction is applied.
	 * opts.now: clock returning a Date (tests may fix it).
	 * opts.onChange(): called after every change (the state file).
	 */
	constructor(opts) {
		const o = opts || {};
		this.queueDelayMs = o.queueDelayMs === undefined ? 50 :
		    o.queueDelayMs;
		this.now = o.now || (() => new Date());
		this.ledgers = new Map();
		this.balances = new Map();
		this.identities = new Map();
		this.transactions = new Map();
		this.indicators = new Map();	/* "@x|USD" -> balance_id */
		this.references = new Set();
		this.timers = new Set();
		this.queue = [];	/* [{due, txn}] "_q" copies, in order */
		this.preparing = 0;	/* queued posts not yet stored */
		this.dropped = [];	/* what Core only logs */
		this.onChange = o.onChange || (() => {});
		this.ledgers.set(GENERAL_LEDGER_ID, {
			ledger_id: GENERAL_LEDGER_ID, name: 'General Ledger',
			created_at: this.stamp(), meta_data: {},
		});
	}

	/* Returns the current time as an ISO string. */
	stamp() {
		return this.now().toISOString();
	}

	/* Cancels queued work (the simulator is shutting down). */
	stop() {
		for (const t of this.timers)
			clearTimeout(t);
		this.timers.clear();
	}

	/* Returns the store (a Map) for a resource name, or null. */
	store(resource) {
		switch (resource) {
		case 'ledgers': return this.ledgers;
		case 'balances': return this.balances;
		case 'identities': return this.identities;
		case 'transactions': return this.transactions;
		default: return null;
		}
	}

	/* Returns all items of a resource, newest first, or null. */
	list(resource) {
		const s = this.store(resource);
		return s === null ? null : Array.from(s.values()).reverse();
	}

	/* Returns one item of a resource by id, or undefined. */
	get(resource, id) {
		const s = this.store(resource);
		return s === null ? undefined : s.get(id);
	}

	/* Finds any entity by the prefix of its id; returns it or undefined. */
	findEntity(id) {
		for (const s of [this.ledgers, this.balances, this.identities,
		    this.transactions])
			if (s.has(id))
				return s.get(id);
		return undefined;
	}

	/* POST /ledgers {name, meta_data}. */
	createLedger(body) {
		if (!isText(body.name))
			return fail(400, 'GEN_VALIDATION_ERROR', 'name is required');
		const l = {
			ledger_id: newId('ldg'), name: body.name,
			created_at: this.stamp(),
			meta_data: isObject(body.meta_data) ? body.meta_data : {},
		};
		this.ledgers.set(l.ledger_id, l);
		this.changed();
		return ok(201, l);
	}

	/* Returns a fresh balance record (not stored). */
	newBalance(ledgerId, currency, extra) {
		return Object.assign({
			balance_id: newId('bln'), indicator: '',
			balance: 0n, credit_balance: 0n, debit_balance: 0n,
			inflight_balance: 0n, inflight_credit_balance: 0n,
			inflight_debit_balance: 0n, currency,
			currency_multiplier: 1, ledger_id: ledgerId,
			identity_id: '', created_at: this.stamp(), meta_data: {},
			version: 0,
		}, extra || {});
	}

	/* POST /balances {ledger_id, currency, identity_id, meta_data}. */
	createBalance(body) {
		if (!isText(body.ledger_id) || !isText(body.currency))
			return fail(400, 'BAL_VALIDATION_ERROR',
			    'ledger_id and currency are required');
		if (!this.ledgers.has(body.ledger_id))
			return fail(404, 'LGR_NOT_FOUND', 'ledger not found');
		if (body.identity_id !== undefined && body.identity_id !== '' &&
		    !this.identities.has(body.identity_id))
			return fail(404, 'IDT_NOT_FOUND', 'identity not found');
		const b = this.newBalance(body.ledger_id, body.currency, {
			identity_id: body.identity_id || '',
			meta_data: isObject(body.meta_data) ? body.meta_data : {},
		});
		this.balances.set(b.balance_id, b);
		this.changed();
		return ok(201, b);
	}

	/* POST /identities {identity_type, ...}. */
	createIdentity(body) {
		if (!isText(body.identity_type))
			return fail(400, 'IDT_VALIDATION_ERROR',
			    'identity_type is required');
		const idt = Object.assign({}, body, {
			identity_id: newId('idt'), created_at: this.stamp(),
			meta_data: isObject(body.meta_data) ? body.meta_data : {},
		});
		this.identities.set(idt.identity_id, idt);
		this.changed();
		return ok(201, idt);
	}

	/* POST /<id>/metadata {meta_data}: merges into the entity's meta_data. */
	updateMetadata(id, body) {
		if (!/^(ldg|bln|idt|txn)_/.test(id) && id !== GENERAL_LEDGER_ID)
			return fail(400, 'META_INVALID_ENTITY_ID',
			    'unsupported entity id');
		if (!isObject(body.meta_data))
			return fail(400, 'GEN_VALIDATION_ERROR',
			    'meta_data must be an object');
		const e = this.findEntity(id);
		if (e === undefined)
			return fail(404, 'META_ENTITY_NOT_FOUND', 'entity not found');
		e.meta_data = Object.assign({}, e.meta_data, body.meta_data);
		this.changed();
		return ok(200, { meta_data: e.meta_data });
	}

	/* GET /balances/indicator/<ind>/currency/<cur>. */
	balanceByIndicator(indicator, currency) {
		const id = this.indicators.get(indicator + '|' + currency);
		if (id === undefined)
			return fail(404, 'BAL_NOT_FOUND', 'balance not found');
		return ok(200, this.balances.get(id));
	}

	/*
	 * Reads a transaction request (lib/txn-input.js) and builds the
	 * record.  Returns {ok: true, txn} or {ok: false, result}.  floats
	 * and prefix locate float literals (lib/json.js); index, for bulk
	 * items, goes into the messages as Core puts it there.
	 */
	readTransaction(body, floats, prefix, index) {
		const d = input.decode(body, floats || new Set(), prefix || '');
		if (!d.ok)
			return { ok: false, result: index === undefined ?
			    fail(400, 'GEN_MALFORMED_REQUEST', 'Invalid input') :
			    fail(400, 'GEN_MALFORMED_REQUEST', 'Invalid request ' +
			    'body: json: ' + d.message) };
		const t = d.t;
		const bad = input.validate(t);
		if (bad !== null) {
			if (index === undefined)
				return { ok: false, result: { status: 400,
				    body: coreErrorBody(bad.code, bad.message, bad.key) } };
			const msg = 'transactions[' + index + ']: ' + bad.message;
			return { ok: false, result: { status: 400, body: coreErrorBody(
			    'TXN_VALIDATION_ERROR', msg, 'errors', { index }) } };
		}
		const what = input.unmodelled(t);
		if (what !== null)
			return { ok: false, result: fail(501, 'SIM_NOT_MODELLED',
			    'cloud-sim does not model ' + what) };
		/* Core defaults a zero precision to 1 (model.ApplyPrecision). */
		const precision = BigInt(t.precision || 1);
		let minor;
		if (t.precise_amount !== undefined)
			minor = t.precise_amount;
		else {
			minor = amountToMinor(t.amount, precision);
			if (minor === null)
				return { ok: false, result: fail(400, 'TXN_INVALID_AMOUNT',
				    'cloud-sim: amount has more decimals than precision ' +
				    'allows (Core would round it; send precise_amount)') };
		}
		return { ok: true, txn: this.newTransaction(t, minor, precision) };
	}

	/* Returns a transaction record (not stored) from a decoded body. */
	newTransaction(t, minor, precision) {
		const now = this.stamp();
		const meta = isObject(t.meta_data) ? Object.assign({}, t.meta_data) :
		    {};
		/* setTransactionMetadata (transaction_queue.go) */
		if (t.atomic)
			meta.atomic = true;
		if (t.allow_overdraft)
			meta.allow_overdraft = true;
		const txn = {
			precise_amount: minor,
			amount: minorToAmount(minor, precision),
			precision: Number(precision),
			overdraft_limit: t.overdraft_limit || 0,
			transaction_id: newId('txn'), parent_transaction: '',
			source: t.source, destination: t.destination,
			reference: t.reference, currency: t.currency,
			description: t.description, status: 'QUEUED', hash: '',
			allow_overdraft: t.allow_overdraft === true,
			inflight: false, skip_queue: t.skip_queue === true,
			atomic: t.atomic === true, created_at: now,
			effective_date: t.effective_date || now,
			scheduled_for: '0001-01-01T00:00:00Z',
			inflight_expiry_date: '0001-01-01T00:00:00Z',
			inflight_commit_date: '0001-01-01T00:00:00Z',
			meta_data: meta,
		};
		txn.hash = crypto.createHash('sha256').update(JSON.stringify([
		    txn.reference, txn.source, txn.destination, String(minor),
		    txn.currency, now])).digest('hex');
		return txn;
	}

	/*
	 * Returns the balance for a party, creating an @indicator balance in
	 * the general ledger (balance.go getOrCreateBalanceByIndicator), or
	 * undefined for an unknown balance id.
	 */
	resolveParty(party, currency) {
		if (!party.startsWith('@'))
			return this.balances.get(party);
		const key = party + '|' + currency;
		let id = this.indicators.get(key);
		if (id === undefined) {
			const b = this.newBalance(GENERAL_LEDGER_ID, currency,
			    { indicator: party });
			this.balances.set(b.balance_id, b);
			this.indicators.set(key, b.balance_id);
			id = b.balance_id;
		}
		return this.balances.get(id);
	}

	/*
	 * Moves the money of txn between two resolved balances.  Core checks
	 * funds but never currencies: a balance in another currency takes the
	 * raw minor units (transaction_dryrun.go says so).  Returns null, or
	 * the reason it cannot (model.go: insufficient funds, overdraft limit).
	 */
	applyMovement(txn, src, dst) {
		const amt = txn.precise_amount;
		if (!txn.allow_overdraft && src.balance - amt < 0n) {
			if (!(txn.overdraft_limit > 0))
				return INSUFFICIENT;
			const limit = BigInt(Math.round(txn.overdraft_limit *
			    txn.precision));
			if (src.balance - amt < -limit)
				return OVER_LIMIT;
		}
		src.debit_balance += amt;
		src.balance = src.credit_balance - src.debit_balance;
		src.version++;
		dst.credit_balance += amt;
		dst.balance = dst.credit_balance - dst.debit_balance;
		dst.version++;
		return null;
	}

	/*
	 * POST /transactions (api/transactions.go QueueTransaction).  The
	 * default path answers 201 QUEUED at once, with the body as sent
	 * (source and destination unresolved); the rest happens later, on a
	 * copy (transaction_queue.go processTransactionAsync).
	 */
	postTransaction(body, floats) {
		const r = this.readTransaction(body, floats);
		if (!r.ok)
			return r.result;
		return this.queueTransaction(r.txn);
	}

	/* Runs one read transaction on its path; returns {status, body}. */
	queueTransaction(txn) {
		if (txn.skip_queue)
			return this.postDirect(txn);
		if (!txn.parent_transaction.includes('bulk'))
			txn.meta_data.QUEUED_PARENT_TRANSACTION = txn.transaction_id;
		else
			txn.meta_data.QUEUED_PARENT_TRANSACTION =
			    txn.parent_transaction;
		const copy = Object.assign({}, txn,
		    { meta_data: Object.assign({}, txn.meta_data) });
		this.preparing++;
		this.later(0, () => {
			this.preparing--;
			this.prepareQueued(copy);
		});
		return ok(201, txn);
	}

	/*
	 * POST /transactions/bulk (api/transactions.go CreateBulkTransactions,
	 * transaction_bulk.go).  The whole body is decoded first, then every
	 * item validated (the first bad one answers, with details.index);
	 * then the items run in order, each as a single post with the
	 * batch's skip_queue and inflight (the items' own are overridden),
	 * parent_transaction = the batch id and meta_data.sequence = i + 1.
	 * run_async answers 202 before anything runs.  A failing item stops
	 * the batch: the answer names it, and with atomic the items applied
	 * before it are refunded ("<txn_id>_refund" rows).
	 */
	postBulk(body, floats) {
		const malformed = (m) => fail(400, 'GEN_MALFORMED_REQUEST',
		    'Invalid request body: json: ' + m);
		for (const k of ['inflight', 'atomic', 'run_async', 'skip_queue',
		    'dry_run'])
			if (body[k] !== undefined && body[k] !== null &&
			    typeof body[k] !== 'boolean')
				return malformed('cannot unmarshal ' + k + ' into Go ' +
				    'struct field BulkTransactionRequest.' + k);
		const list = body.transactions === undefined ||
		    body.transactions === null ? [] : body.transactions;
		if (!Array.isArray(list))
			return malformed('cannot unmarshal transactions into Go ' +
			    'struct field BulkTransactionRequest.transactions');
		for (let i = 0; i < list.length; i++) {
			const d = list[i] === null ? { ok: true } :
			    input.decode(list[i], floats, 'transactions.' + i + '.');
			if (!d.ok)
				return malformed(d.message);
		}
		if (list.length === 0)
			return fail(400, 'TXN_BULK_EMPTY', 'transactions cannot be empty');
		if (list.length > MAX_BULK)
			return fail(400, 'TXN_BULK_LIMIT_EXCEEDED',
			    'too many transactions; max is ' + MAX_BULK);
		const txns = [];
		for (let i = 0; i < list.length; i++) {
			if (list[i] === null)
				return { status: 400, body: coreErrorBody(
				    'TXN_VALIDATION_ERROR', 'transactions[' + i +
				    '] is required', 'errors', { index: i }) };
			const r = this.readTransaction(list[i], floats,
			    'transactions.' + i + '.', i);
			if (!r.ok)
				return r.result;
			txns.push(r.txn);
		}
		if (body.inflight || body.dry_run)
			return fail(501, 'SIM_NOT_MODELLED', 'cloud-sim does not ' +
			    'model ' + (body.inflight ? 'inflight' : 'dry-run') +
			    ' bulk transactions');
		const batch = newId('bulk');
		const req = { atomic: body.atomic === true,
		    skipQueue: body.skip_queue === true };
		if (body.run_async === true) {
			this.preparing++;
			this.later(0, () => {
				this.preparing--;
				this.runBulk(batch, txns, req);
			});
			return ok(202, { message: 'Bulk transaction processing started',
			    batch_id: batch, status: 'processing' });
		}
		const err = this.runBulk(batch, txns, req);
		if (err !== null) {
			const code = classifyMessage(err) || 'GEN_BAD_REQUEST';
			return { status: STATUS_BY_CODE[code] || 500, body: {
				error: err, batch_id: batch,
				error_detail: { code, message: err,
				    details: { batch_id: batch } } } };
		}
		return ok(201, { batch_id: batch, status: 'applied',
		    transaction_count: txns.length });
	}

	/* Runs a batch's items; returns null or the batch's error message. */
	runBulk(batch, txns, req) {
		const done = [];
		for (let i = 0; i < txns.length; i++) {
			const t = txns[i];
			t.parent_transaction = batch;
			t.skip_queue = req.skipQueue;
			t.meta_data.sequence = i + 1;
			const r = this.queueTransaction(t);
			if (r.status < 400) {
				done.push(t);
				continue;
			}
			const msg = 'failed to queue transaction ' + (i + 1) +
			    ' (Reference: ' + t.reference + ', Source: ' + t.source +
			    ', Destination: ' + t.destination + ', Amount: ' +
			    t.amount.toFixed(2) + '): ' + r.body.error_detail.message;
			if (!req.atomic)
				return msg + '. Previous transactions were not rolled back.';
			for (const d of done)
				if (d.status === 'APPLIED')
					this.refund(d);
			return msg + '. All transactions in this batch have been ' +
			    'refunded.';
		}
		return null;
	}

	/* Refunds an applied transaction (transaction_refunds.go). */
	refund(orig) {
		const t = Object.assign({}, orig, {
			transaction_id: newId('txn'),
			reference: orig.transaction_id + '_refund',
			parent_transaction: orig.transaction_id,
			source: orig.destination, destination: orig.source,
			status: 'QUEUED', created_at: this.stamp(),
			meta_data: Object.assign({}, orig.meta_data),
		});
		return this.queueTransaction(t);
	}

	/* Stores a transaction row and reserves its reference. */
	remember(txn) {
		this.transactions.set(txn.transaction_id, txn);
		this.references.add(txn.reference);
		this.changed();
	}

	/* Notes a transaction Core dropped without a trace (it only logs). */
	drop(txn, reason) {
		this.dropped.push({ at: this.stamp(), reference: txn.reference,
		    transaction_id: txn.transaction_id, reason });
		if (this.dropped.length > 1000)
			this.dropped.shift();
		this.changed();
	}

	/*
	 * skip_queue: applies now (transaction_execution.go
	 * recordTransactionSingle): indicators are resolved first, then the
	 * reference is checked (409), then the balances (404 TXN_NOT_FOUND:
	 * GEN_NOT_FOUND is upgraded by the handler), then funds (400).
	 */
	postDirect(txn) {
		const src = this.resolveParty(txn.source, txn.currency);
		const dst = this.resolveParty(txn.destination, txn.currency);
		if (this.references.has(txn.reference))
			return fail(409, 'TXN_DUPLICATE_REFERENCE', 'transaction ' +
			    'validation failed: reference ' + txn.reference +
			    ' has already been used');
		for (const [party, b] of [[txn.source, src], [txn.destination, dst]])
			if (b === undefined)
				return { status: 404, body: coreErrorBody('TXN_NOT_FOUND',
				    'Balance with ID \'' + party + '\' not found',
				    'error', {}) };
		const why = this.applyMovement(txn, src, dst);
		if (why !== null)
			return why === INSUFFICIENT ?
			    fail(400, 'TXN_INSUFFICIENT_FUNDS', why) :
			    fail(400, 'TXN_VALIDATION_ERROR', why);
		txn.source = src.balance_id;
		txn.destination = dst.balance_id;
		txn.status = 'APPLIED';
		/* A zero amount is discarded, not persisted (transaction_execution.go). */
		if (txn.precise_amount !== 0n)
			this.remember(txn);
		return ok(201, txn);
	}

	/* Runs fn after ms, unless the simulator stops first. */
	later(ms, fn) {
		const t = setTimeout(() => {
			this.timers.delete(t);
			fn();
		}, ms);
		this.timers.add(t);
	}

	/*
	 * The asynchronous half of the queued path (transaction_queue.go
	 * processSingleTransaction): resolve the balances (an unknown id
	 * fails here and the transaction is gone: no row at all), store the
	 * QUEUED row with the resolved bln_ ids (a used reference fails the
	 * insert: gone too), and enqueue the "<ref>_q" copy.
	 */
	prepareQueued(txn) {
		const src = this.resolveParty(txn.source, txn.currency);
		const dst = this.resolveParty(txn.destination, txn.currency);
		if (src === undefined || dst === undefined)
			return this.drop(txn, 'Balance with ID \'' + (src === undefined ?
			    txn.source : txn.destination) + '\' not found');
		if (this.references.has(txn.reference))
			return this.drop(txn, 'reference ' + txn.reference +
			    ' has already been used');
		txn.source = src.balance_id;
		txn.destination = dst.balance_id;
		this.remember(txn);
		const q = Object.assign({}, txn, {
			transaction_id: newId('txn'),
			parent_transaction: txn.transaction_id,
			reference: txn.reference + '_q',
			meta_data: Object.assign({}, txn.meta_data),
		});
		this.enqueue(q);
	}

	/* Puts a "_q" copy on the queue, due after the queue delay. */
	enqueue(q) {
		const due = Date.now() + this.queueDelayMs;
		this.queue.push({ due, txn: q });
		this.changed();
		this.later(this.queueDelayMs, () => this.runDue());
	}

	/* Processes every queued copy that is due, in order. */
	runDue() {
		const now = Date.now();
		while (this.queue.length > 0 && this.queue[0].due <= now)
			this.processQueued(this.queue.shift().txn);
		/* a timer may fire a little before Date.now() reaches due */
		if (this.queue.length > 0)
			this.later(Math.max(1, this.queue[0].due - now), () =>
			    this.runDue());
	}

	/*
	 * Changes the queue delay for what is queued from now on and for what
	 * waits already (due = queued time + new delay).
	 */
	setQueueDelay(ms) {
		const old = this.queueDelayMs;
		this.queueDelayMs = ms;
		for (const e of this.queue)
			e.due += ms - old;
		for (const e of this.queue)
			this.later(Math.max(0, e.due - Date.now()), () => this.runDue());
	}

	/* Processes everything queued now, whatever the delay. */
	flushQueue() {
		for (const e of this.queue)
			e.due = 0;
		this.runDue();
	}

	/*
	 * The queue worker (cmd/workers.go processTransaction): the "_q" row
	 * becomes APPLIED, or REJECTED with meta_data.blnk_rejection_reason
	 * when funds are short (rejected at once: insufficient_fund_retries
	 * is off by default) or the overdraft limit is passed.  A used "_q"
	 * reference is dropped silently; a zero amount is not persisted.
	 */
	processQueued(q) {
		if (this.references.has(q.reference))
			return this.drop(q, 'reference ' + q.reference +
			    ' has already been used');
		q.created_at = this.stamp();
		const why = this.applyMovement(q, this.balances.get(q.source),
		    this.balances.get(q.destination));
		if (why === null)
			q.status = 'APPLIED';
		else {
			q.status = 'REJECTED';
			q.meta_data.blnk_rejection_reason = why;
		}
		if (why === null && q.precise_amount === 0n)
			return this.changed();
		this.remember(q);
	}

	/*
	 * Test-only tampering (POST /_sim/tamper), to plant the differences a
	 * reconciliation must find; real Core offers none of this.  op:
	 *  - "delete": the rows of reference and reference_q vanish (and the
	 *    reference is free again), their movement undone;
	 *  - "amount": the row's precise_amount (the <ref>_q row when there is
	 *    one, and the queued original) becomes precise_amount, the
	 *    balances moved by the difference;
	 *  - "add": a new APPLIED transaction under reference, as if posted
	 *    with skip_queue and allow_overdraft (source, destination,
	 *    currency, precise_amount, precision, effective_date, meta_data).
	 * Returns {status, body}.
	 */
	tamper(body) {
		const ref = body.reference;
		if (!isText(ref))
			return fail(400, 'GEN_VALIDATION_ERROR', 'reference is required');
		const rows = Array.from(this.transactions.values()).filter((t) =>
		    t.reference === ref || t.reference === ref + '_q');
		const moved = (t) => t.status === 'APPLIED' &&
		    this.balances.has(t.source) && this.balances.has(t.destination);
		const shift = (t, amt) => {
			const src = this.balances.get(t.source);
			const dst = this.balances.get(t.destination);
			src.debit_balance += amt;
			src.balance = src.credit_balance - src.debit_balance;
			dst.credit_balance += amt;
			dst.balance = dst.credit_balance - dst.debit_balance;
		};
		switch (body.op) {
		case 'delete':
			if (rows.length === 0)
				return fail(404, 'TXN_NOT_FOUND', 'no transaction ' + ref);
			for (const t of rows) {
				if (moved(t))
					shift(t, -t.precise_amount);
				this.transactions.delete(t.transaction_id);
				this.references.delete(t.reference);
			}
			break;
		case 'amount': {
			if (rows.length === 0)
				return fail(404, 'TXN_NOT_FOUND', 'no transaction ' + ref);
			if (body.precise_amount !== undefined &&
			    (!Number.isSafeInteger(body.precise_amount) ||
			    body.precise_amount <= 0))
				return fail(400, 'GEN_VALIDATION_ERROR',
				    'precise_amount must be a positive integer');
			if (body.currency !== undefined && !isText(body.currency))
				return fail(400, 'GEN_VALIDATION_ERROR',
				    'currency must be text');
			for (const t of rows) {
				const amt = body.precise_amount !== undefined ?
				    BigInt(body.precise_amount) : t.precise_amount;
				if (moved(t))
					shift(t, amt - t.precise_amount);
				t.precise_amount = amt;
				t.amount = minorToAmount(amt, t.precision);
				/* The row only: its balances keep their currency,
				 * as Core never checks one (transaction_dryrun.go). */
				if (body.currency !== undefined)
					t.currency = body.currency;
			}
			break;
		}
		case 'add': {
			if (this.references.has(ref))
				return fail(409, 'TXN_DUPLICATE_REFERENCE', 'reference ' +
				    ref + ' has already been used');
			const t = this.newTransaction({
				source: body.source || '@world',
				destination: body.destination || '@stripe',
				reference: ref, currency: body.currency || 'USD',
				description: 'planted by /_sim/tamper',
				allow_overdraft: true, skip_queue: true,
				effective_date: body.effective_date,
				meta_data: body.meta_data,
			}, BigInt(body.precise_amount || 100), body.precision || 100);
			const r = this.postDirect(t);
			if (r.status !== 201)
				return r;
			rows.push(t);
			break;
		}
		default:
			return fail(400, 'GEN_VALIDATION_ERROR',
			    'op must be delete, amount or add');
		}
		this.changed();
		return ok(200, { reference: ref, op: body.op,
		    transactions: rows.map((t) => t.transaction_id) });
	}

	/* Returns the number of queued transactions not yet processed. */
	pending() {
		return this.queue.length + this.preparing;
	}

	/* Tells the owner that something changed. */
	changed() {
		this.onChange();
	}

	/* Returns the whole model as plain data (BigInts stay BigInts). */
	toState() {
		return {
			ledgers: Array.from(this.ledgers.values()),
			balances: Array.from(this.balances.values()),
			identities: Array.from(this.identities.values()),
			transactions: Array.from(this.transactions.values()),
			queue: this.queue.map((e) => e.txn),
			dropped: this.dropped,
		};
	}

	/*
	 * Loads a state written by toState() (through JSON: amounts come back
	 * as numbers or BigInts and are made BigInts again).  Queued copies
	 * are due again after the queue delay.
	 */
	loadState(st) {
		const big = (v) => BigInt(v);
		this.ledgers = new Map(st.ledgers.map((l) => [l.ledger_id, l]));
		this.balances = new Map(st.balances.map((b) => {
			for (const k of BALANCE_AMOUNTS)
				b[k] = big(b[k]);
			return [b.balance_id, b];
		}));
		this.indicators = new Map();
		for (const b of this.balances.values())
			if (b.indicator)
				this.indicators.set(b.indicator + '|' + b.currency,
				    b.balance_id);
		this.identities = new Map(st.identities.map((i) =>
		    [i.identity_id, i]));
		const txn = (t) => Object.assign(t,
		    { precise_amount: big(t.precise_amount) });
		this.transactions = new Map(st.transactions.map((t) =>
		    [t.transaction_id, txn(t)]));
		this.references = new Set(Array.from(this.transactions.values(),
		    (t) => t.reference));
		this.dropped = st.dropped || [];
		this.queue = [];
		for (const q of st.queue || [])
			this.enqueue(txn(q));
	}
}

module.exports = {
	Core, GENERAL_LEDGER_ID, amountToMinor, classifyMessage, STATUS_BY_CODE,
	MAX_BULK, INSUFFICIENT,
};
