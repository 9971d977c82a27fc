'use strict';
/*
 * Filtering and paging for the Data API (query suffixes such as
 * reference_in=a,b or created_at_between=a|b) and for the Filter API
 * ({"filters":[{field, operator, value}]}).
 *
 * A filter is normalised to {field, op, values: [string, ...]}.  Fields may
 * be dotted paths into nested objects (meta_data.app.key).
 */

/* The Data API's operators (blnk-docs cloud/proxy/data-api.mdx). */
const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'between',
    'like', 'ilike'];

/* The Filter API has four more (cloud/proxy/filters-api.mdx). */
const FILTER_OPERATORS = OPERATORS.concat(['isnull', 'isnotnull', 'exists',
    'notexists']);

/* Operators that take no value. */
const NO_VALUE = ['isnull', 'isnotnull', 'exists', 'notexists'];

/* Default page size: 30 for ledgers, 20 for the rest (data-api.mdx). */
const DEFAULT_PAGE_SIZE = 20;
const LEDGER_PAGE_SIZE = 30;
const MAX_PAGE_SIZE = 100;

/* The query parameters we act on that are not filters. */
const RESERVED = new Set(['page', 'pageSize', 'instance_id']);

/*
 * Parameters Cloud reserves for paging, sorting and routing
 * (data-api.mdx): never filters.  What Cloud does with them is not
 * documented, so the simulator refuses them.
 */
const RESERVED_UNSUPPORTED = new Set(['per_page', 'limit', 'offset', 'sort',
    'order', 'order_by', 'order_dir', 'org_id']);

/*
 * The filterable fields per resource, and nothing else
 * (cloud/proxy/data-api.mdx and filters-api.mdx, "Filterable fields by
 * resource"); meta_data.<path> is allowed where meta_data is.
 */
const FIELDS = {
	ledgers: ['ledger_id', 'name', 'created_at', 'meta_data'],
	balances: ['balance_id', 'ledger_id', 'identity_id', 'indicator',
	    'currency', 'balance', 'credit_balance', 'debit_balance',
	    'inflight_balance', 'inflight_credit_balance',
	    'inflight_debit_balance', 'created_at', 'meta_data'],
	transactions: ['transaction_id', 'parent_transaction', 'amount',
	    'currency', 'source', 'destination', 'balance_id', 'reference',
	    'status', 'created_at', 'effective_date', 'precision', 'meta_data'],
	identities: ['identity_id', 'first_name', 'last_name', 'other_names',
	    'gender', 'dob', 'email_address', 'phone_number', 'nationality',
	    'street', 'country', 'state', 'organization_name', 'category',
	    'identity_type', 'post_code', 'city', 'created_at', 'meta_data'],
};

/* A meta_data path segment (blnk internal/filter/validation.go jsonKeyRegex). */
const JSON_KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/;

/* Core's limits (internal/filter/parser.go). */
const MAX_FILTERS = 20;
const MAX_IN_VALUES = 100;
const MAX_VALUE_CHARS = 1000;

/*
 * Checks that field may be filtered on in resource with op.  Returns null
 * or a message.  No resource: no check (alerts).
 */
function checkField(resource, field, op) {
	const allowed = FIELDS[resource];
	if (allowed === undefined)
		return null;
	if (field.startsWith('meta_data.')) {
		const bad = field.split('.').slice(1).find((k) => !JSON_KEY.test(k));
		return bad === undefined ? null : 'invalid JSON key \'' +
		    bad.slice(0, 40) + '\' in field \'' + field.slice(0, 80) + '\'';
	}
	if (!allowed.includes(field))
		return 'invalid field \'' + field.slice(0, 60) + '\' for ' + resource +
		    ' (filterable: ' + allowed.join(', ') + ')';
	if ((op === 'exists' || op === 'notexists'))
		return 'operator ' + op + ' is for meta_data keys';
	/* internal/filter/validation.go: balance_id on transactions */
	if (resource === 'transactions' && field === 'balance_id' &&
	    !['eq', 'ne', 'in', 'isnull', 'isnotnull'].includes(op))
		return 'operator \'' + op + '\' is not supported for field ' +
		    '\'balance_id\' on transactions: must be one of eq, ne, in, ' +
		    'isnull, isnotnull';
	return null;
}

/*
 * Builds one normalised filter.  raw is a string (Data API) or a string,
 * number, boolean or array (Filter API).  Returns {ok, filter} or
 * {ok: false, message}.
 */
function makeFilter(field, op, raw, ops, resource) {
	if (typeof field !== 'string' || !/^[A-Za-z0-9_.]+$/.test(field))
		return { ok: false, message: 'bad filter field name' };
	if (!(ops || OPERATORS).includes(op))
		return { ok: false, message: 'unknown filter operator "' +
		    String(op).slice(0, 20) + '" for field ' + field };
	const why = checkField(resource, field, op);
	if (why !== null)
		return { ok: false, message: why };
	if (NO_VALUE.includes(op))
		return { ok: true, filter: { field, op, values: [] } };
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
	if (op === 'in' && values.length > MAX_IN_VALUES)
		return { ok: false, message: 'IN operator exceeds maximum values (' +
		    MAX_IN_VALUES + ')' };
	if (values.some((v) => v.length > MAX_VALUE_CHARS))
		return { ok: false, message: 'value exceeds maximum length (' +
		    MAX_VALUE_CHARS + ' chars)' };
	return { ok: true, filter: { field, op, values } };
}

/*
 * Parses the filters out of a URLSearchParams.  Every parameter that is
 * not reserved must be "<field>_<operator>".  Returns {ok, filters} or
 * {ok: false, message}.
 */
function parseQueryFilters(params, resource) {
	const filters = [];
	for (const [key, raw] of params) {
		if (RESERVED.has(key))
			continue;
		if (RESERVED_UNSUPPORTED.has(key) || key.toLowerCase() === 'pagesize')
			return { ok: false, message: 'query parameter ' + key +
			    ' is reserved by Cloud; cloud-sim pages with page and ' +
			    'pageSize only' };
		const cut = key.lastIndexOf('_');
		if (cut <= 0)
			return { ok: false, message: 'unknown query parameter ' +
			    key.slice(0, 60) + ' (filters are <field>_<operator>)' };
		const r = makeFilter(key.slice(0, cut), key.slice(cut + 1), raw,
		    OPERATORS, resource);
		if (!r.ok)
			return r;
		filters.push(r.filter);
	}
	if (filters.length > MAX_FILTERS)
		return { ok: false, message: 'exceeded maximum number of filters (' +
		    MAX_FILTERS + ')' };
	return { ok: true, filters };
}

/*
 * Parses a Filter API body {"filters":[{field, operator, value|values}]}.
 * Returns {ok, filters} or {ok: false, message}.
 */
function parseBodyFilters(body, resource) {
	const extra = Object.keys(body).filter((k) => k !== 'filters');
	if (extra.length > 0)
		return { ok: false, message: 'unknown body field ' +
		    extra[0].slice(0, 40) + ': the body holds only "filters"; ' +
		    'page and pageSize go in the query string' };
	const list = body.filters;
	if (!Array.isArray(list))
		return { ok: false, message: 'filters (an array) is required' };
	if (list.length > MAX_FILTERS)
		return { ok: false, message: 'exceeded maximum number of filters (' +
		    MAX_FILTERS + ')' };
	const filters = [];
	for (const f of list) {
		if (f === null || typeof f !== 'object')
			return { ok: false, message: 'each filter must be an object' };
		const raw = f.values !== undefined ? f.values : f.value;
		const r = makeFilter(f.field, f.operator, raw, FILTER_OPERATORS,
		    resource);
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
	/* balance_id on a transaction: its source or its destination */
	if (f.field === 'balance_id' && obj.transaction_id !== undefined) {
		const a = Object.assign({}, f, { field: 'source' });
		const b = Object.assign({}, f, { field: 'destination' });
		return f.op === 'ne' || f.op === 'isnull' ?
		    matchOne(obj, a) && matchOne(obj, b) :
		    matchOne(obj, a) || matchOne(obj, b);
	}
	const v = getPath(obj, f.field);
	const c0 = () => compare(v, f.values[0]);
	switch (f.op) {
	case 'isnull': return v === undefined || v === null || v === '';
	case 'isnotnull': return !(v === undefined || v === null || v === '');
	case 'exists': return v !== undefined;
	case 'notexists': return v === undefined;
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
function parsePaging(pageRaw, sizeRaw, defaultSize) {
	const page = pageRaw === undefined || pageRaw === null ? 1 :
	    Number(pageRaw);
	const size = sizeRaw === undefined || sizeRaw === null ?
	    defaultSize || DEFAULT_PAGE_SIZE : Number(sizeRaw);
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
	OPERATORS, FILTER_OPERATORS, FIELDS, DEFAULT_PAGE_SIZE, LEDGER_PAGE_SIZE,
	MAX_PAGE_SIZE, MAX_FILTERS, checkField, parseQueryFilters,
	parseBodyFilters, applyFilters, parsePaging, pageOf, getPath, compare,
	likeRegExp,
};
