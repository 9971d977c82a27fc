'use strict';
/*
 * The gateway the app calls with its Bearer api key:
 *   /proxy/<core path>        Core reads and writes (answers pass through)
 *   GET /data/<resource>[/id] reads with filters and paging
 *   POST /<resource>/filter   the Filter API
 *   /alerts...                Cloud-native alerts
 *
 * Order of checks for each call: key (401), injected fault, route (404),
 * scope (403), instance_id (403), body (400), handler.  Every call is
 * written to the audit log with the install id and the key prefix only.
 */

const { readBody, parseJsonObject, sendJson, sendCoreError } =
    require('./http-util');
const query = require('./query');

const RESOURCES = '(ledgers|balances|transactions|identities)';
const SEG = '([^/]+)';

/*
 * The Filter API's paths (blnk-docs cloud/proxy/filters-api.mdx): at the
 * root, and the ledgers' is singular.
 */
const FILTER_PATHS = { '/ledger/filter': 'ledgers',
    '/balances/filter': 'balances', '/transactions/filter': 'transactions',
    '/identities/filter': 'identities' };

/* Largest bulk body: 10,000 items of about 1 KiB each. */
const BULK_MAX_BODY = 16 * 1024 * 1024;

/* Returns true when a path belongs to the gateway. */
function isGatewayPath(p) {
	return p.startsWith('/proxy/') || p.startsWith('/data/') ||
	    p === '/alerts' || p.startsWith('/alerts/') ||
	    /^\/(ledgers?|balances|transactions|identities|reconciliation)\/filter$/
	    .test(p);
}

/* Returns {status, body} for a Core-style error. */
function err(status, code, message) {
	return { status, body: { error: message,
	    error_detail: { code, message } } };
}

/* Returns the value of a query parameter, or undefined. */
function param(params, k) {
	return params.get(k) === null ? undefined : params.get(k);
}

/* Returns the default page size of a resource (data-api.mdx). */
function defaultSize(resource) {
	return resource === 'ledgers' ? query.LEDGER_PAGE_SIZE :
	    query.DEFAULT_PAGE_SIZE;
}

/* Returns the Data API answer for a list with query filters and paging. */
function listAnswer(items, params, resource) {
	const f = query.parseQueryFilters(params, resource);
	if (!f.ok)
		return err(400, 'GEN_VALIDATION_ERROR', f.message);
	const pg = query.parsePaging(param(params, 'page'),
	    param(params, 'pageSize'), defaultSize(resource));
	if (!pg.ok)
		return err(400, 'GEN_VALIDATION_ERROR', pg.message);
	return { status: 200, body: query.pageOf(
	    query.applyFilters(items, f.filters), pg.page, pg.pageSize) };
}

/*
 * Returns a total that is deliberately not exact: Cloud says a
 * transactions total may be an estimate unless strict_total=true
 * (filters-api.mdx), so an app must not count on it.
 */
function estimate(n) {
	return n === 0 ? 0 : (Math.floor(n / 50) + 1) * 50;
}

/*
 * Returns the Filter API answer: body {filters}, paging and strict_total
 * in the query string, the shape per resource (filters-api.mdx).
 */
function filterAnswer(items, body, params, resource) {
	for (const k of params.keys())
		if (!['instance_id', 'page', 'pageSize', 'strict_total'].includes(k))
			return err(400, 'GEN_VALIDATION_ERROR', 'unknown query ' +
			    'parameter ' + k.slice(0, 40) + ' (the Filter API takes ' +
			    'instance_id, page, pageSize and strict_total)');
	const strict = param(params, 'strict_total');
	if (strict !== undefined && (resource !== 'transactions' ||
	    !['true', 'false'].includes(strict)))
		return err(400, 'GEN_VALIDATION_ERROR', 'strict_total is ' +
		    'true or false, on transactions only');
	const f = query.parseBodyFilters(body, resource);
	if (!f.ok)
		return err(400, 'GEN_VALIDATION_ERROR', f.message);
	const pg = query.parsePaging(param(params, 'page'),
	    param(params, 'pageSize'), defaultSize(resource));
	if (!pg.ok)
		return err(400, 'GEN_VALIDATION_ERROR', pg.message);
	const out = query.pageOf(query.applyFilters(items, f.filters),
	    pg.page, pg.pageSize);
	if (resource === 'ledgers')
		return { status: 200, body: out };
	out.stats = {};
	if (resource === 'transactions') {
		const exact = strict === 'true';
		if (!exact)
			out.total = estimate(out.total);
		out.total_is_estimate = !exact;
		out.total_source = exact ? 'exact' : 'estimate';
	}
	return { status: 200, body: out };
}

/* Returns {status, body} for one Core item, or a 404. */
function oneItem(core, resource, id, wrap) {
	const item = core.get(resource, id);
	if (item === undefined)
		return err(404, { ledgers: 'LGR_NOT_FOUND',
		    balances: 'BAL_NOT_FOUND', transactions: 'TXN_NOT_FOUND',
		    identities: 'IDT_NOT_FOUND' }[resource],
		    resource.replace(/s$/, '') + ' not found');
	return { status: 200, body: wrap ? { data: item } : item };
}

/*
 * The route table.  family picks the scope: "proxy" (GET data:read, else
 * data:write), "data" and "filter" (data:read), "alerts" (GET
 * alerts:read, else alerts:write).  Handlers get (ctx, match) and return
 * {status, body}.
 */
const ROUTES = [
	['POST', '/proxy/ledgers', 'proxy', (c) => c.core.createLedger(c.body)],
	['GET', '/proxy/ledgers', 'proxy', (c) =>
	    ({ status: 200, body: c.core.list('ledgers') })],
	['GET', '/proxy/ledgers/' + SEG, 'proxy', (c, m) =>
	    oneItem(c.core, 'ledgers', m[1])],
	['POST', '/proxy/balances', 'proxy', (c) =>
	    c.core.createBalance(c.body)],
	['GET', '/proxy/balances/indicator/' + SEG + '/currency/' + SEG,
	    'proxy', (c, m) => c.core.balanceByIndicator(m[1], m[2])],
	['GET', '/proxy/balances/' + SEG, 'proxy', (c, m) =>
	    oneItem(c.core, 'balances', m[1])],
	['POST', '/proxy/identities', 'proxy', (c) =>
	    c.core.createIdentity(c.body)],
	['GET', '/proxy/identities', 'proxy', (c) =>
	    ({ status: 200, body: c.core.list('identities') })],
	['GET', '/proxy/identities/' + SEG, 'proxy', (c, m) =>
	    oneItem(c.core, 'identities', m[1])],
	['POST', '/proxy/transactions', 'proxy', (c) =>
	    c.core.postTransaction(c.body, c.floats)],
	['POST', '/proxy/transactions/bulk', 'proxy', (c) =>
	    c.core.postBulk(c.body, c.floats)],
	['GET', '/proxy/transactions/' + SEG, 'proxy', (c, m) =>
	    oneItem(c.core, 'transactions', m[1])],
	['POST', '/proxy/' + SEG + '/metadata', 'proxy', (c, m) =>
	    c.core.updateMetadata(m[1], c.body)],
	['GET', '/data/' + RESOURCES, 'data', (c, m) =>
	    listAnswer(c.core.list(m[1]), c.url.searchParams, m[1])],
	['GET', '/data/' + RESOURCES + '/' + SEG, 'data', (c, m) =>
	    oneItem(c.core, m[1], m[2], true)],
	['POST', '/(ledger|balances|transactions|identities)/filter', 'filter',
	    (c) => {
		const r = FILTER_PATHS[c.url.pathname];
		return filterAnswer(c.core.list(r), c.body, c.url.searchParams, r);
	}],
	['POST', '/alerts/flag/' + SEG, 'alerts', (c, m) =>
	    c.alerts.flag(c.core, m[1], c.body, c.rec.installed_app_id)],
	['PUT', '/alerts/flag/' + SEG, 'alerts', (c, m) =>
	    c.alerts.update(m[1], c.body, c.statuses)],
	['GET', '/alerts', 'alerts', (c) =>
	    listAnswer(c.alerts.list(), c.url.searchParams, 'alerts')],
	['GET', '/alerts/statuses', 'alerts', (c) => c.statuses.list()],
	['POST', '/alerts/statuses', 'alerts', (c) => c.statuses.create(c.body)],
	['PUT', '/alerts/statuses/' + SEG, 'alerts', (c, m) =>
	    c.statuses.update(m[1], c.body)],
	['DELETE', '/alerts/statuses/' + SEG, 'alerts', (c, m) =>
	    c.statuses.remove(m[1], (k) => c.cloud.alertsInUse(k))],
	['GET', '/alerts/' + SEG, 'alerts', (c, m) => c.alerts.get(m[1])],
].map(([method, pattern, family, handler]) => ({
	method, re: new RegExp('^' + pattern + '$'), family, handler,
}));

/* Returns the scope a route needs for a method. */
function scopeFor(family, method) {
	if (family === 'alerts')
		return method === 'GET' ? 'alerts:read' : 'alerts:write';
	if (family === 'proxy')
		return method === 'GET' ? 'data:read' : 'data:write';
	return 'data:read';
}

/* Returns {route, match} for a call, or null.  Path segments decoded. */
function findRoute(method, path) {
	for (const r of ROUTES) {
		if (r.method !== method)
			continue;
		const m = r.re.exec(path);
		if (m === null)
			continue;
		try {
			return { route: r, match: m.map((s) =>
			    decodeURIComponent(s)) };
		} catch (e) {
			return null;
		}
	}
	return null;
}

/* Returns the Bearer token of a request, or null. */
function bearer(req) {
	const h = req.headers.authorization;
	if (typeof h !== 'string')
		return null;
	const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
	return m === null ? null : m[1];
}

class Gateway {
	/*
	 * cloud: the Cloud (installs, keys, Core models); faults: Faults;
	 * opts.auditMax: entries kept in the audit log.
	 */
	constructor(cloud, faults, opts) {
		this.cloud = cloud;
		this.faults = faults;
		this.auditMax = (opts && opts.auditMax) || 10000;
		this.audit = [];
	}

	/* Forgets the audit log. */
	reset() {
		this.audit = [];
	}

	/* Starts the audit entry of a call; it is written when it closes. */
	startAudit(req, res, url, token) {
		const entry = {
			at: new Date().toISOString(), installed_app_id: null,
			api_key_prefix: token !== null && token.startsWith('blnk_') ?
			    token.slice(0, 8) : null,
			instance_id: url.searchParams.get('instance_id'),
			method: req.method, path: url.pathname, status: 0,
			fault: null, duration_ms: 0,
		};
		const started = Date.now();
		res.on('close', () => {
			entry.status = res.writableFinished ? res.statusCode : 0;
			entry.duration_ms = Date.now() - started;
			this.audit.push(entry);
			if (this.audit.length > this.auditMax)
				this.audit.shift();
		});
		return entry;
	}

	/* Answers an injected fault.  A stall writes nothing at all. */
	sendFault(res, fault) {
		switch (fault.mode) {
		case '429':
			sendCoreError(res, 429, 'GEN_RATE_LIMITED',
			    'rate limit exceeded',
			    { 'Retry-After': String(fault.retryAfter) });
			break;
		case '423':
			sendCoreError(res, 423, 'GEN_RESOURCE_LOCKED',
			    'resource is locked, retry later');
			break;
		case '500':
			sendCoreError(res, 500, 'GEN_INTERNAL',
			    'internal server error');
			break;
		case '503':
			sendCoreError(res, 503, 'GEN_INTERNAL',
			    'service unavailable', { 'Retry-After':
			    String(fault.retryAfter) });
			break;
		default:	/* stall: the client gives up or we shut down */
			break;
		}
	}

	/*
	 * Checks key, route, scope and instance.  Returns {ctx, route, match}
	 * or {answer: {status, body}}; null when a fault was sent.
	 */
	authorize(req, res, url, token, entry) {
		const auth = this.cloud.authenticate(token);
		if (auth.rec === undefined)
			return { answer: auth.reason === 'missing' ?
			    err(401, 'AUTH_MISSING_API_KEY', 'missing api key') :
			    err(401, 'AUTH_INVALID_API_KEY', auth.reason === 'revoked' ?
			    'api key has been revoked' : 'invalid api key') };
		const rec = auth.rec;
		entry.installed_app_id = rec.installed_app_id;
		entry.api_key_prefix = rec.api_key_prefix;
		const fault = this.faults.take(url.pathname);
		if (fault !== null) {
			entry.fault = fault.mode;
			this.sendFault(res, fault);
			return null;
		}
		const found = findRoute(req.method, url.pathname);
		if (found === null)
			return { answer: err(404, 'GEN_NOT_FOUND', 'no such route: ' +
			    req.method + ' ' + url.pathname.slice(0, 200)) };
		const scope = scopeFor(found.route.family, req.method);
		if (!rec.granted_permissions.includes(scope))
			return { answer: err(403, 'AUTH_INSUFFICIENT_PERMISSIONS',
			    'this install was not granted ' + scope) };
		const inst = url.searchParams.get('instance_id');
		const needInst = found.route.family !== 'alerts';
		if ((needInst && inst !== rec.instance_id) ||
		    (!needInst && inst !== null && inst !== rec.instance_id))
			return { answer: err(403, 'AUTH_CROSS_OWNER_ACCESS',
			    inst === null ? 'instance_id query parameter is ' +
			    'required' : 'instance_id does not match this install') };
		const ctx = { rec, url, core: this.cloud.coreFor(rec.instance_id),
		    alerts: this.cloud.alertsFor(rec.instance_id),
		    statuses: this.cloud.alertStatuses, cloud: this.cloud, body: {},
		    floats: new Set() };
		return { ctx, route: found.route, match: found.match };
	}

	/* Handles one gateway call (path already known to be ours). */
	async handle(req, res, url) {
		const token = bearer(req);
		const entry = this.startAudit(req, res, url, token);
		let buf;
		try {
			buf = await readBody(req, url.pathname ===
			    '/proxy/transactions/bulk' ? BULK_MAX_BODY : undefined);
		} catch (e) {
			sendCoreError(res, e.status || 400, 'GEN_PAYLOAD_TOO_LARGE',
			    'request body too large');
			return;
		}
		const a = this.authorize(req, res, url, token, entry);
		if (a === null)
			return;
		if (a.answer) {
			sendJson(res, a.answer.status, a.answer.body);
			return;
		}
		if (req.method === 'POST' || req.method === 'PUT') {
			const p = parseJsonObject(buf);
			if (!p.ok) {
				sendCoreError(res, 400, 'GEN_MALFORMED_REQUEST', p.message);
				return;
			}
			a.ctx.body = p.value;
			a.ctx.floats = p.floats;
		}
		const out = a.route.handler(a.ctx, a.match);
		sendJson(res, out.status, out.body);
		if (req.method !== 'GET')
			this.cloud.onChange();
	}
}

module.exports = { Gateway, isGatewayPath, scopeFor, findRoute };
