'use strict';
/*
 * An in-memory model of one Blnk Core instance: ledgers, balances,
 * identities and transactions, with the semantics an importer depends on:
 *
 *  - the default path answers 201 QUEUED; after queueDelayMs a new row
 *    "<reference>_q" appears with status APPLIED or REJECTED;
 *  - references are unique: a re-post on the queued path answers 201 and
 *    is dropped silently; with skip_queue it answers 409;
 *  - "@indicator" sources and destinations are balances created on first
 *    use, one per indicator and currency, in the general ledger;
 *  - a source may not go negative without allow_overdraft: true (REJECTED
 *    on the queued path, 400 TXN_INSUFFICIENT_FUNDS with skip_queue).
 *
 * Every method returns {status, body}; error bodies are Core's
 * {error, error_detail: {code, message}}.  Amounts are BigInt inside.
 */

const crypto = require('node:crypto');
const { coreErrorBody } = require('./http-util');

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

/*
 * Reads precision: a positive integer power of ten.  Returns the BigInt,
 * or null when invalid.
 */
function parsePrecision(p) {
	if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 1)
		return null;
	if (!/^10*$/.test(String(p)))
		return null;
	return BigInt(p);
}

/*
 * Reads precise_amount: a positive integer (JSON number or digit string).
 * Returns the BigInt or null.
 */
function parsePreciseAmount(v) {
	let b = null;
	if (typeof v === 'number' && Number.isSafeInteger(v))
		b = BigInt(v);
	else if (typeof v === 'string' && /^[0-9]+$/.test(v))
		b = BigInt(v);
	return b !== null && b > 0n ? b : null;
}

/*
 * Converts a decimal amount to minor units under precision, exactly.
 * Returns the BigInt, or null when the amount is not positive or has more
 * decimals than precision allows.
 */
function amountToMinor(amount, precision) {
	if (typeof amount !== 'number' || !Number.isFinite(amount) ||
	    amount <= 0)
		return null;
	const text = amount.toString();
	if (!/^[0-9]+(\.[0-9]+)?$/.test(text))
		return null;
	const [whole, frac = ''] = text.split('.');
	const digits = precision.toString().length - 1;
	if (frac.length > digits)
		return null;
	const minor = BigInt(whole + frac.padEnd(digits, '0'));
	return minor > 0n ? minor : null;
}

/* Returns the decimal amount (a float, as Core shows it) of minor units. */
function minorToAmount(minor, precision) {
	return Number(minor) / Number(precision);
}

class Core {
	/*
	 * opts.queueDelayMs: delay before a queued transaction is applied.
	 * opts.now: clock returning a Date (tests may fix it).
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
			return fail(400, 'LGR_NOT_FOUND', 'ledger not found');
		if (body.identity_id !== undefined && body.identity_id !== '' &&
		    !this.identities.has(body.identity_id))
			return fail(400, 'IDT_NOT_FOUND', 'identity not found');
		const b = this.newBalance(body.ledger_id, body.currency, {
			identity_id: body.identity_id || '',
			meta_data: isObject(body.meta_data) ? body.meta_data : {},
		});
		this.balances.set(b.balance_id, b);
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
	 * Validates a transaction request.  Returns {ok: true, txn} with the
	 * normalised fields, or {ok: false, result} holding the 400 answer.
	 */
	validateTransaction(body) {
		const bad = (code, msg) =>
		    ({ ok: false, result: fail(400, code, msg) });
		const precision = parsePrecision(body.precision);
		if (precision === null)
			return bad('TXN_PRECISION_NOT_INTEGER', 'precision must ' +
			    'be a positive integer power of 10');
		let minor;
		if (body.precise_amount !== undefined &&
		    body.precise_amount !== null) {
			minor = parsePreciseAmount(body.precise_amount);
			if (minor === null)
				return bad('TXN_INVALID_AMOUNT', 'precise_amount ' +
				    'must be a positive integer');
		} else if (body.amount !== undefined) {
			minor = amountToMinor(body.amount, precision);
			if (minor === null)
				return bad('TXN_INVALID_AMOUNT', 'amount must be ' +
				    'positive with no more decimals than precision');
		} else
			return bad('TXN_INVALID_AMOUNT',
			    'amount or precise_amount is required');
		for (const f of ['currency', 'reference', 'source', 'destination'])
			if (!isText(body[f]))
				return bad('TXN_VALIDATION_ERROR', f + ' is required');
		if (body.source === body.destination)
			return bad('TXN_VALIDATION_ERROR',
			    'source and destination must differ');
		for (const f of ['source', 'destination']) {
			const r = this.checkParty(body[f], body.currency);
			if (r !== null)
				return { ok: false, result: r };
		}
		return { ok: true, txn: this.newTransaction(body, minor, precision) };
	}

	/*
	 * Checks a source or destination: an "@indicator" or an existing
	 * balance in the transaction's currency.  Returns null or an error.
	 */
	checkParty(party, currency) {
		if (party.startsWith('@'))
			return party.length > 1 ? null :
			    fail(400, 'TXN_VALIDATION_ERROR', 'empty indicator');
		const b = this.balances.get(party);
		if (b === undefined)
			return fail(400, 'BAL_NOT_FOUND', 'balance not found');
		if (b.currency !== currency)
			return fail(400, 'TXN_VALIDATION_ERROR',
			    'currency does not match the balance currency');
		return null;
	}

	/* Returns a transaction record (not stored) from a validated body. */
	newTransaction(body, minor, precision) {
		const now = this.stamp();
		return {
			transaction_id: newId('txn'), parent_transaction: '',
			amount: minorToAmount(minor, precision),
			precise_amount: minor, precision: Number(precision),
			rate: 1, currency: body.currency,
			source: body.source, destination: body.destination,
			reference: body.reference,
			description: typeof body.description === 'string' ?
			    body.description : '',
			status: 'QUEUED',
			allow_overdraft: body.allow_overdraft === true,
			skip_queue: body.skip_queue === true,
			inflight: false, created_at: now,
			effective_date: typeof body.effective_date === 'string' ?
			    body.effective_date : now,
			meta_data: isObject(body.meta_data) ? body.meta_data : {},
		};
	}

	/* Returns the balance for a party, creating an @indicator balance. */
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
	 * Moves the money of txn between its balances.  Returns null on
	 * success, or an error message when the source lacks funds.
	 */
	applyMovement(txn) {
		const src = this.resolveParty(txn.source, txn.currency);
		const dst = this.resolveParty(txn.destination, txn.currency);
		const amt = txn.precise_amount;
		if (!txn.allow_overdraft && src.balance - amt < 0n)
			return 'insufficient funds in source balance';
		src.debit_balance += amt;
		src.balance = src.credit_balance - src.debit_balance;
		src.version++;
		dst.credit_balance += amt;
		dst.balance = dst.credit_balance - dst.debit_balance;
		dst.version++;
		return null;
	}

	/* POST /transactions. */
	postTransaction(body) {
		const v = this.validateTransaction(body);
		if (!v.ok)
			return v.result;
		const txn = v.txn;
		if (txn.skip_queue)
			return this.postDirect(txn);
		if (this.references.has(txn.reference))
			return ok(201, txn);	/* dropped silently, as Core does */
		this.remember(txn);
		this.schedule(txn);
		return ok(201, txn);
	}

	/* Stores a transaction row and reserves its reference. */
	remember(txn) {
		this.transactions.set(txn.transaction_id, txn);
		this.references.add(txn.reference);
	}

	/* skip_queue: applies now.  409 duplicate, 400 insufficient, 201. */
	postDirect(txn) {
		if (this.references.has(txn.reference))
			return fail(409, 'TXN_DUPLICATE_REFERENCE',
			    'reference ' + txn.reference + ' has already been used');
		const why = this.applyMovement(txn);
		if (why !== null)
			return fail(400, 'TXN_INSUFFICIENT_FUNDS', why);
		txn.status = 'APPLIED';
		this.remember(txn);
		return ok(201, txn);
	}

	/* Applies a queued transaction after the queue delay. */
	schedule(queued) {
		const t = setTimeout(() => {
			this.timers.delete(t);
			this.processQueued(queued);
		}, this.queueDelayMs);
		this.timers.add(t);
	}

	/* Writes the "<ref>_q" row, APPLIED or REJECTED. */
	processQueued(queued) {
		const row = Object.assign({}, queued, {
			transaction_id: newId('txn'),
			parent_transaction: queued.transaction_id,
			reference: queued.reference + '_q',
			created_at: this.stamp(),
			meta_data: Object.assign({}, queued.meta_data),
		});
		const why = this.applyMovement(row);
		if (why === null)
			row.status = 'APPLIED';
		else {
			row.status = 'REJECTED';
			row.meta_data.blnk_rejection_reason = why;
		}
		this.remember(row);
	}

	/* Returns the number of queued transactions not yet processed. */
	pending() {
		return this.timers.size;
	}
}

module.exports = {
	Core, GENERAL_LEDGER_ID, parsePrecision, parsePreciseAmount,
	amountToMinor,
};
