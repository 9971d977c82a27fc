'use strict';
/*
 * Reading a transaction request the way Blnk Core does (blnk
 * api/model/transaction.go RecordTransaction, api/model/model.go
 * ValidateRecordTransaction, api/transactions.go QueueTransaction):
 *
 *  1. decoding: every field has a Go type; a JSON value of another type
 *     fails the whole bind (gin ShouldBindJSON), answered 400
 *     GEN_MALFORMED_REQUEST "Invalid input".  precise_amount is a *big.Int:
 *     a string, "100.0" or "1e2" fail there.  effective_date is a
 *     time.Time: RFC 3339 only.  Unknown fields are ignored, as in Go.
 *  2. validation (ozzo-validation): per field, the first failing rule,
 *     reported as "field: message; field: message." in key order, answered
 *     400 TXN_VALIDATION_ERROR under the key "errors".
 *
 * decode() returns {ok: true, t} or {ok: false, message}; validate(t)
 * returns null or the message.
 */

/* Go type of each RecordTransaction field we read. */
const FIELDS = {
	amount: 'number', precision: 'number', overdraft_limit: 'number',
	precise_amount: 'bigint', allow_overdraft: 'bool', inflight: 'bool',
	skip_queue: 'bool', atomic: 'bool', dry_run: 'bool',
	source: 'string', reference: 'string', destination: 'string',
	description: 'string', currency: 'string', balance_id: 'string',
	scheduled_for: 'string', inflight_expiry_date: 'string',
	inflight_commit_date: 'string', sources: 'array',
	destinations: 'array', meta_data: 'object', effective_date: 'time',
};

/* Go's time.Time JSON form (RFC 3339, optional fraction). */
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$/;

/* Returns true when v decodes into a Go value of type kind. */
function fits(kind, v, isFloatLiteral) {
	if (v === null)
		return true;	/* null leaves Go's zero value */
	switch (kind) {
	case 'number': return typeof v === 'number' || typeof v === 'bigint';
	case 'bigint':
		return (typeof v === 'bigint' || (typeof v === 'number' &&
		    Number.isInteger(v))) && !isFloatLiteral;
	case 'bool': return typeof v === 'boolean';
	case 'string': return typeof v === 'string';
	case 'array': return Array.isArray(v) && v.every((x) => x === null ||
	    (typeof x === 'object' && !Array.isArray(x)));
	case 'object': return typeof v === 'object' && !Array.isArray(v);
	case 'time': return typeof v === 'string' && RFC3339.test(v) &&
	    !Number.isNaN(Date.parse(v));
	default: return false;
	}
}

/*
 * Decodes one RecordTransaction from a parsed JSON object.  floats is the
 * set of float-literal paths from lib/json.js, prefix the path of this
 * object ("" or "transactions.3.").  Returns {ok, t} or {ok: false,
 * message} naming the field.
 */
function decode(obj, floats, prefix) {
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
		return { ok: false, message: 'cannot unmarshal into Go value ' +
		    'of type model.RecordTransaction' };
	const t = {};
	for (const [k, kind] of Object.entries(FIELDS)) {
		if (!Object.prototype.hasOwnProperty.call(obj, k))
			continue;
		const v = obj[k];
		if (v === undefined)
			continue;	/* only a direct call can send it */
		if (!fits(kind, v, floats.has(prefix + k)))
			return { ok: false, message: 'cannot unmarshal ' +
			    k + ' into Go struct field RecordTransaction.' + k };
		if (v !== null)
			t[k] = kind === 'bigint' ? BigInt(v) : kind === 'number' ?
			    Number(v) : v;
	}
	return { ok: true, t };
}

/* Returns the count of significant digits of a float, as Core counts. */
function significantDigits(x) {
	let s = String(Math.abs(x));
	if (/e/i.test(s))
		s = Math.abs(x).toFixed(20).replace(/0+$/, '');
	return s.replace('.', '').replace(/^0+/, '').length;
}

/*
 * Validates a decoded transaction like ValidateRecordTransaction.
 * Returns null, or {code, message, key} for the answer.
 */
function validate(t) {
	const errs = {};
	const amount = t.amount || 0;
	const pa = t.precise_amount;
	if (amount !== 0 && pa !== undefined)
		errs.amount = 'either amount or precise_amount should be ' +
		    'provided, not both';
	else if (amount === 0 && pa === undefined)
		errs.amount = 'either amount or precise_amount is required';
	else if (amount !== 0 && significantDigits(amount) > 15)
		errs.amount = 'amount has more than 15 significant digits ' +
		    'which may cause rounding errors; use precise_amount instead';
	else if (amount < 0)
		errs.amount = 'amount cannot be negative';
	else if (pa !== undefined && pa < 0n)
		errs.amount = 'precise_amount cannot be negative';
	const p = t.precision || 0;
	if (Math.trunc(p) !== p)
		return { code: 'TXN_PRECISION_NOT_INTEGER', key: 'error',
		    message: 'precision must be an integer value' };
	if (p < 0)
		errs.precision = 'precision cannot be negative';
	for (const f of ['currency', 'reference', 'description'])
		if (!t[f])
			errs[f] = 'cannot be blank';
	const many = (a) => Array.isArray(a) && a.length > 0;
	if (!t.source === !many(t.sources))
		errs.source = 'either source or sources is required, not both';
	if (!t.destination === !many(t.destinations))
		errs.destination = 'either destination or destinations is ' +
		    'required, not both';
	else if (t.source && t.destination && t.source === t.destination)
		errs.destination = 'source and destination cannot be the same ' +
		    'balance';
	for (const f of ['scheduled_for', 'inflight_expiry_date',
	    'inflight_commit_date'])
		if (t[f] && !RFC3339.test(t[f]))
			errs[f] = 'please format the scheduled date as ' +
			    '\'YYYY-MM-DDTHH:MM:SS+00:00\' (e.g., ' +
			    '2024-04-22T15:28:03+00:00)';
	const keys = Object.keys(errs).sort();
	if (keys.length === 0)
		return null;
	return { code: 'TXN_VALIDATION_ERROR', key: 'errors',
	    message: keys.map((k) => k + ': ' + errs[k]).join('; ') + '.' };
}

/*
 * Returns the name of a feature the request uses that the simulator does
 * not model (inflight, scheduled, split, dry-run), or null.
 */
function unmodelled(t) {
	if (t.inflight)
		return 'inflight transactions';
	if (t.scheduled_for)
		return 'scheduled transactions (scheduled_for)';
	if ((t.sources && t.sources.length) ||
	    (t.destinations && t.destinations.length))
		return 'split transactions (sources/destinations)';
	if (t.dry_run)
		return 'dry runs (dry_run)';
	return null;
}

module.exports = { decode, validate, unmodelled, RFC3339, FIELDS };
