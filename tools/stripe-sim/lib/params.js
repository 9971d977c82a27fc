'use strict';
/*
 * Reading a list or retrieve call's query string as Stripe does: form
 * encoding with bracket keys (created[gte]=1, expand[]=data.source or
 * expand[0]=..., as Stripe's own clients send them; brackets may be
 * percent-encoded), each endpoint accepting only its documented
 * parameters.  Failures throw lib/errors.js ApiErrors:
 *  - a parameter the endpoint does not have: 400 parameter_unknown
 *    "Received unknown parameter: x" (also for created[foo]);
 *  - a bad integer: 400 parameter_invalid_integer "Invalid integer: x";
 *    limit outside 1..100: the same code, "This value must be greater
 *    than or equal to 1." / "... less than or equal to 100.";
 *  - expand not given as an array: 400 "Invalid array".
 * Stricter than Stripe where it is silent: a parameter given twice is a
 * 400 (Stripe's decoder would keep one), and so is created=N together with
 * created[gte]=M.
 */

const { invalid, unknownParameter, invalidInteger } = require('./errors');
const cur = require('./currencies');

const KEY = /^([A-Za-z0-9_]+)((?:\[[^[\]]*\])*)$/;
const RANGE_OPS = ['gt', 'gte', 'lt', 'lte'];

/* Returns the list of bracket segments of "[a][b]" (["a", "b"]). */
function segments(s) {
	const out = [];
	const re = /\[([^[\]]*)\]/g;
	let m;
	while ((m = re.exec(s)) !== null)
		out.push(m[1]);
	return out;
}

/* Returns the integer in s or throws parameter_invalid_integer. */
function integer(param, s) {
	if (!/^-?[0-9]+$/.test(s) || !Number.isSafeInteger(Number(s)))
		throw invalidInteger(param, 'Invalid integer: ' + s);
	return Number(s);
}

/* Returns the query's parameters grouped by name: Map name ->
 * [{key, segs, value}], in order. */
function group(search) {
	const out = new Map();
	for (const [key, value] of new URLSearchParams(search)) {
		const m = KEY.exec(key);
		if (m === null)
			throw unknownParameter(key);
		const name = m[1];
		if (!out.has(name))
			out.set(name, []);
		out.get(name).push({ key, segs: segments(m[2]), value });
	}
	return out;
}

/* Returns the one value of a scalar parameter. */
function scalar(name, entries) {
	for (const e of entries)
		if (e.segs.length > 0)
			throw unknownParameter(e.key);
	if (entries.length > 1)
		throw invalid('Received the ' + name + ' parameter more than ' +
		    'once.', name);
	return entries[0].value;
}

/* Parses one parameter of a type (see SPEC in lib/api.js). */
function parseOne(name, type, entries) {
	switch (type) {
	case 'limit': {
		const n = integer(name, scalar(name, entries));
		if (n < 1)
			throw invalidInteger(name, 'This value must be greater than ' +
			    'or equal to 1.');
		if (n > 100)
			throw invalidInteger(name, 'This value must be less than or ' +
			    'equal to 100.');
		return n;
	}
	case 'string':
		return scalar(name, entries);
	case 'currency': {
		const c = scalar(name, entries);
		if (!cur.isSupported(c))
			throw invalid('Invalid currency: ' + c + '. Stripe currently ' +
			    'supports these currencies (lower case): ' +
			    cur.SUPPORTED.join(', '), name, 'invalid_currency');
		return c;
	}
	case 'range': {
		if (entries.length === 1 && entries[0].segs.length === 0)
			return { eq: integer(name, entries[0].value) };
		const r = {};
		for (const e of entries) {
			if (e.segs.length === 0)
				throw invalid('Invalid ' + name + ': give either an ' +
				    'integer or a hash of gt, gte, lt and lte, not both.',
				    name);
			if (e.segs.length !== 1 || !RANGE_OPS.includes(e.segs[0]))
				throw unknownParameter(e.key);
			const op = e.segs[0];
			if (r[op] !== undefined)
				throw invalid('Received the ' + e.key + ' parameter more ' +
				    'than once.', e.key);
			r[op] = integer(name + '[' + op + ']', e.value);
		}
		return r;
	}
	case 'expand': {
		const out = [];
		for (const e of entries) {
			if (e.segs.length !== 1 || !/^([0-9]+)?$/.test(e.segs[0]))
				throw invalid('Invalid array', name);
			if (e.value === '')
				throw invalid('This property cannot be expanded ().', name);
			out.push(e.value);
		}
		return out;
	}
	default:
		if (Array.isArray(type)) {
			const v = scalar(name, entries);
			if (!type.includes(v))
				throw invalid('Invalid ' + name + ': must be one of ' +
				    type.join(', '), name);
			return v;
		}
		throw new Error('no parameter type ' + type);
	}
}

/*
 * Parses search (a URL's query string, without "?") against spec
 * ({name: type}).  Returns {name: value} for the parameters given.
 */
function parseParams(search, spec) {
	const out = {};
	for (const [name, entries] of group(search)) {
		if (!Object.prototype.hasOwnProperty.call(spec, name))
			throw unknownParameter(name);
		out[name] = parseOne(name, spec[name], entries);
	}
	return out;
}

/* Returns true when the integer x is inside range r ({eq} or ops). */
function inRange(x, r) {
	if (r === undefined)
		return true;
	if (r.eq !== undefined)
		return x === r.eq;
	return (r.gt === undefined || x > r.gt) &&
	    (r.gte === undefined || x >= r.gte) &&
	    (r.lt === undefined || x < r.lt) &&
	    (r.lte === undefined || x <= r.lte);
}

module.exports = { parseParams, inRange, group, segments, RANGE_OPS };
