'use strict';
/*
 * Object shapes from Stripe's own fixtures (fixtures/fixtures3.json, from
 * github.com/stripe/openapi; see fixtures/SOURCES.md).  Every object the
 * simulator serves has the fixture's keys for its resource, in the
 * fixture's (alphabetical) order, with the fixture's nesting; the values
 * are the generator's.
 *
 * One deliberate difference, from the API version the fixtures follow
 * (2022-11-15, the api_version of the fixtures' event): a Charge no longer
 * carries `refunds` unless it is expanded (docs.stripe.com/changelog/
 * 2022-11-15/deprecates-charges-auto-expand), so conform() leaves it out
 * and lib/api.js adds it for expand[]=refunds.
 */

const fs = require('node:fs');
const path = require('node:path');

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'fixtures3.json');
const KINDS = ['balance', 'balance_transaction', 'charge', 'customer',
    'dispute', 'payment_intent', 'payout', 'refund'];

/* Keys a resource has only when expanded (see above). */
const EXPAND_ONLY = { charge: ['refunds'] };

/* An element of balance_transaction.fee_details (the fixture's list is
 * empty; these are the API reference's fields). */
const FEE_DETAIL_KEYS = ['amount', 'application', 'currency', 'description',
    'type'];

let templates = null;

/* Returns the fixture's object for kind (read once). */
function template(kind) {
	if (templates === null) {
		const all = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')).resources;
		templates = {};
		for (const k of KINDS) {
			if (all[k] === undefined)
				throw new Error('fixture has no ' + k);
			templates[k] = all[k];
		}
	}
	if (templates[kind] === undefined)
		throw new Error('no shape for ' + kind);
	return templates[kind];
}

/* Returns the keys an object of kind has when nothing is expanded. */
function keysOf(kind) {
	const omit = EXPAND_ONLY[kind] || [];
	return Object.keys(template(kind)).filter((k) => !omit.includes(k));
}

const keyCache = new Map();

/*
 * Returns obj as a new object with exactly the keys of kind, in the
 * fixture's order.  Throws when obj lacks one or has another: a generator
 * bug, never a request's fault.
 */
function conform(kind, obj) {
	let keys = keyCache.get(kind);
	if (keys === undefined) {
		keys = keysOf(kind);
		keyCache.set(kind, keys);
	}
	const out = {};
	for (const k of keys) {
		if (!(k in obj))
			throw new Error(kind + ' lacks ' + k);
		out[k] = obj[k];
	}
	if (Object.keys(obj).length !== keys.length)
		throw new Error(kind + ' has keys the fixture does not: ' +
		    Object.keys(obj).filter((k) => !keys.includes(k)).join(', '));
	return out;
}

/* Returns true for a plain object (not null, not an array). */
function isObject(v) {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/*
 * Compares value with a fixture template and returns the differences as
 * strings (empty: same shape).  A null template, an empty object ({},
 * such as metadata) or an empty array accept anything of that kind; a
 * non-empty object template wants the same keys, recursively; a non-empty
 * array's elements are compared with its first element; null is accepted
 * for any template (nullable fields); otherwise the JSON type must match.
 */
function shapeDiff(tpl, value, where) {
	const at = where || '';
	const out = [];
	if (tpl === null || value === null)
		return out;
	if (Array.isArray(tpl)) {
		if (!Array.isArray(value))
			return [at + ': want an array'];
		if (tpl.length > 0)
			value.forEach((v, i) => out.push(...shapeDiff(tpl[0], v,
			    at + '[' + i + ']')));
		return out;
	}
	if (isObject(tpl)) {
		if (!isObject(value))
			return [at + ': want an object'];
		const tk = Object.keys(tpl);
		if (tk.length === 0)
			return out;
		const vk = Object.keys(value);
		for (const k of tk)
			if (!vk.includes(k))
				out.push(at + '.' + k + ': missing');
		for (const k of vk)
			if (!tk.includes(k))
				out.push(at + '.' + k + ': not in the fixture');
			else
				out.push(...shapeDiff(tpl[k], value[k], at + '.' + k));
		return out;
	}
	if (typeof tpl !== typeof value)
		out.push(at + ': want a ' + typeof tpl + ', got ' + typeof value);
	return out;
}

module.exports = { FIXTURE, KINDS, EXPAND_ONLY, FEE_DETAIL_KEYS, template,
    keysOf, conform, shapeDiff, isObject };
