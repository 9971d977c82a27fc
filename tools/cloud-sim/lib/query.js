'use strict';
/*
 * Filtering and paging for the Data API (query suffixes such as
 * reference_in=a,b or created_at_between=a|b) and for the Filter API
 * ({"filters":[{field, operator, value}]}).
 *
 * A filter is normalised to {field, op, values: [string, ...]}.  Fields may
 * be dotted paths into nested objects (meta_data.app.key).
 */

const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'between',
    'like', 'ilike'];

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/* Query parameters that are not filters. */
const RESERVED = new Set(['page', 'pageSize', 'instance_id']);

/*
 * Builds one normalised filter.  raw is a string (Data API) or a string,
 * number, boolean or array (Filter API).  Returns {ok, filter} or
 * {ok: false, message}.
 */
function makeFilter(field, op, raw) {
	if (!field || !/^[A-Za-z0-9_.]+$/.test(field))
		return { ok: false, message: 'bad filter field name' };
	if (!OPERATORS.includes(op))
		return { ok: false, message: 'unknown filter operator "' +
		    String(op).slice(0, 20) + '" for field ' + field };
	let values;
	if (Array.isArray(raw))
		values = raw.map(String);
	else if (raw === undefined || raw === null)
		return { ok: false, message: 'filter on ' + field + ' has no value' };
	else if (op === 'in')
		values = String(raw).split(',');
	else if (op === 'between')
		values = String(raw).split('|');
	else
		values = [String(raw)];
	if (op === 'between' && values.length !== 2)
		return { ok: false, message: 'between filter on ' + field +
		    ' needs two values "a|b"' };
	if (op !== 'in' && op !== 'between' && values.length !== 1)
		return { ok: false, message: 'filter on ' + field +
		    ' takes one value' };
	return { ok: true, filter: { field, op, values } };
}

/*
 * Parses the filters out of a URLSearchParams.  Every parameter that is
 * not reserved must be "<field>_<operator>".  Returns {ok, filters} or
 * {ok: false, message}.
 */
function parseQueryFilters(params) {
	const filters = [];
	for (const [key, raw] of params) {
		if (RESERVED.has(key))
			continue;
		const cut = key.lastIndexOf('_');
		if (cut <= 0)
			return { ok: false, message: 'unknown query parameter ' +
			    key.slice(0, 60) + ' (filters are <field>_<operator>)' };
		const r = makeFilter(key.slice(0, cut), key.slice(cut + 1), raw);
		if (!r.ok)
			return r;
		filters.push(r.filter);
	}
	return { ok: true, filters };
}

/*
 * Parses a Filter API body {"filters":[{field, operator, value|values}]}.
 * Returns {ok, filters} or {ok: false, message}.
 */
function parseBodyFilters(body) {
	const list = body.filters === undefined ? [] : body.filters;
	if (!Array.isArray(list))
		return { ok: false, message: 'filters must be an array' };
	const filters = [];
	for (const f of list) {
		if (f === null || typeof f !== 'object')
			return { ok: false, message: 'each filter must be an object' };
		const raw = f.values !== undefined ? f.values : f.value;
		const r = makeFilter(f.field, f.operator, raw);
		if (!r.ok)
			return r;
		filters.push(r.filter);
	}
	return { ok: true, filters };
}

/* Returns the value at a dotted path in obj, or undefined. */
function getPath(obj, path) {
	let cur = obj;
	for (const part of path.split('.')) {
		if (cur === null || typeof cur !== 'object' ||
		    !Object.prototype.hasOwnProperty.call(cur, part))
			return undefined;
		cur = cur[part];
	}
	return cur;
}

const INT_RE = /^-?[0-9]+$/;
const NUM_RE = /^-?[0-9]+(\.[0-9]+)?$/;
const DATE_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}/;

/*
 * Compares a stored value with an operand string.  Returns <0, 0, >0, or
 * NaN when they cannot be compared.  Integers compare exactly (BigInt),
 * other numbers as floats, ISO dates as instants, the rest as strings.
 */
function compare(stored, operand) {
	if (stored === undefined || stored === null)
		return NaN;
	const s = typeof stored === 'object' ? JSON.stringify(stored) :
	    String(stored);
	if (INT_RE.test(s) && INT_RE.test(operand)) {
		const a = BigInt(s), b = BigInt(operand);
		return a < b ? -1 : a > b ? 1 : 0;
	}
	if (NUM_RE.test(s) && NUM_RE.test(operand))
		return Number(s) - Number(operand);
	if (DATE_RE.test(s) && DATE_RE.test(operand)) {
		const a = Date.parse(s), b = Date.parse(operand);
		if (!Number.isNaN(a) && !Number.isNaN(b))
			return a - b;
	}
	return s < operand ? -1 : s > operand ? 1 : 0;
}

/* Returns a RegExp for an SQL LIKE pattern (% any run, _ one char). */
function likeRegExp(pattern, caseless) {
	let re = '';
	for (const ch of pattern) {
		if (ch === '%')
			re += '[\\s\\S]*';
		else if (ch === '_')
			re += '[\\s\\S]';
		else
			re += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
	}
	return new RegExp('^' + re + '$', caseless ? 'i' : '');
}

/* Returns true when obj passes one normalised filter. */
function matchOne(obj, f) {
	const v = getPath(obj, f.field);
	const c0 = () => compare(v, f.values[0]);
	switch (f.op) {
	case 'eq': return c0() === 0;
	case 'ne': return !(c0() === 0);
	case 'gt': return c0() > 0;
	case 'gte': return c0() >= 0;
	case 'lt': return c0() < 0;
	case 'lte': return c0() <= 0;
	case 'in': return f.values.some((x) => compare(v, x) === 0);
	case 'between':
		return compare(v, f.values[0]) >= 0 &&
		    compare(v, f.values[1]) <= 0;
	case 'like':
	case 'ilike':
		if (v === undefined || v === null)
			return false;
		return likeRegExp(f.values[0], f.op === 'ilike').test(String(v));
	default:
		return false;
	}
}

/* Returns the items that pass every filter. */
function applyFilters(items, filters) {
	return items.filter((o) => filters.every((f) => matchOne(o, f)));
}

/*
 * Reads page and pageSize (query strings or numbers).  Returns
 * {ok, page, pageSize} or {ok: false, message}.
 */
function parsePaging(pageRaw, sizeRaw) {
	const page = pageRaw === undefined || pageRaw === null ? 1 :
	    Number(pageRaw);
	const size = sizeRaw === undefined || sizeRaw === null ?
	    DEFAULT_PAGE_SIZE : Number(sizeRaw);
	if (!Number.isInteger(page) || page < 1)
		return { ok: false, message: 'page must be an integer >= 1' };
	if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
		return { ok: false, message: 'pageSize must be an integer 1..' +
		    MAX_PAGE_SIZE };
	return { ok: true, page, pageSize: size };
}

/* Returns {data, total} for one page of items. */
function pageOf(items, page, pageSize) {
	const start = (page - 1) * pageSize;
	return { data: items.slice(start, start + pageSize),
	    total: items.length };
}

module.exports = {
	OPERATORS, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, parseQueryFilters,
	parseBodyFilters, applyFilters, parsePaging, pageOf, getPath, compare,
	likeRegExp,
};
