'use strict';
/*
 * Cloud-native alerts (blnk-docs cloud/home/alerts-api.mdx and
 * cloud/reference/{create,update,get}-alert.mdx, *-alert-status.mdx).
 *
 *  - POST /alerts/flag/{id}: id is a balance, transaction or identity that
 *    exists; description is required, title optional.  The alert is
 *    {anomaly_id: "ano_...", title, description, type: "Balance" |
 *    "Transaction" | "Identity", assigned_to, escalated_to, status:
 *    "FLAGGED", created_at, updated_at, affected_balances,
 *    affected_identities, affected_transactions}.
 *  - PUT /alerts/flag/{anomaly_id}: title, description, status (a built-in
 *    status or a custom status key).
 *  - statuses are per organization: {organization_id, key, name, colour,
 *    created_at, updated_at}; colour one of allowed_colours; key derived
 *    from name when omitted ("Pending Review" -> PENDING_REVIEW), unique;
 *    keys in URLs are case-insensitive; a status in use cannot be deleted.
 *
 * Errors are Cloud's own, {"error": "..."} (delete-alert-status.mdx shows
 * the shape); Cloud's HTTP statuses for them are not documented, ours are
 * 400, 404 and 409.
 */

const crypto = require('node:crypto');

/* allowed_colours (list-alert-statuses.mdx). */
const ALLOWED_COLOURS = ['#3B82F6', '#10B981', '#F59E0B', '#EF4444',
    '#8B5CF6', '#EC4899', '#06B6D4', '#84CC16', '#F97316', '#6366F1',
    '#14B8A6', '#A855F7', '#E11D48', '#64748B', '#0EA5E9'];

/*
 * Statuses every alert may have without a custom one: FLAGGED (a new
 * alert's), and the two the alerts overview names (Investigating,
 * Resolved: cloud/alerts/overview.mdx).
 */
const BUILTIN_STATUSES = ['FLAGGED', 'INVESTIGATING', 'RESOLVED'];

/* Entity kinds by id prefix. */
const KINDS = {
	bln: { type: 'Balance', list: 'affected_balances' },
	txn: { type: 'Transaction', list: 'affected_transactions' },
	idt: { type: 'Identity', list: 'affected_identities' },
};

/* Returns {status, body} for an error, in Cloud's shape. */
function fail(status, message) {
	return { status, body: { error: message } };
}

/* Returns null or an error when a text field is not a string. */
function checkText(body, fields) {
	for (const k of fields) {
		if (body[k] === undefined)
			continue;
		if (typeof body[k] !== 'string')
			return fail(400, k + ' must be a string');
		if (body[k].length > 2000)
			return fail(400, k + ' is too long');
	}
	return null;
}

/* Returns the key Cloud derives from a status name. */
function deriveKey(name) {
	return name.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_')
	    .replace(/^_+|_+$/g, '');
}

/* The custom alert statuses of one organization. */
class AlertStatuses {
	constructor(orgId) {
		this.orgId = orgId;
		this.items = new Map();	/* KEY -> status */
	}

	/* GET /alerts/statuses. */
	list() {
		return { status: 200, body: { data: Array.from(this.items.values()),
		    allowed_colours: ALLOWED_COLOURS } };
	}

	/* Returns true when key (any case) is a status an alert may take. */
	has(key) {
		return BUILTIN_STATUSES.includes(key) || this.items.has(key);
	}

	/* POST /alerts/statuses {name, colour, key?}. */
	create(body) {
		const bad = checkText(body, ['name', 'colour', 'key']);
		if (bad !== null)
			return bad;
		if (!body.name || body.name.trim() === '')
			return fail(400, 'name is required');
		if (!ALLOWED_COLOURS.includes(body.colour))
			return fail(400, 'colour must be one of allowed_colours');
		const key = body.key !== undefined ? body.key.trim().toUpperCase() :
		    deriveKey(body.name);
		if (!/^[A-Z0-9_]+$/.test(key))
			return fail(400, 'key must be letters, digits and _');
		if (this.has(key))
			return fail(409, 'a status with key ' + key + ' already exists');
		const now = new Date().toISOString();
		const st = { organization_id: this.orgId, key, name: body.name,
		    colour: body.colour, created_at: now, updated_at: now };
		this.items.set(key, st);
		return { status: 201, body: st };
	}

	/* PUT /alerts/statuses/{key} {name, colour}. */
	update(rawKey, body) {
		const st = this.items.get(String(rawKey).toUpperCase());
		if (st === undefined)
			return fail(404, 'status not found');
		const bad = checkText(body, ['name', 'colour']);
		if (bad !== null)
			return bad;
		if (!body.name || body.name.trim() === '')
			return fail(400, 'name is required');
		if (!ALLOWED_COLOURS.includes(body.colour))
			return fail(400, 'colour must be one of allowed_colours');
		st.name = body.name;
		st.colour = body.colour;
		st.updated_at = new Date().toISOString();
		return { status: 200, body: st };
	}

	/* DELETE /alerts/statuses/{key}; inUse(key) counts the alerts. */
	remove(rawKey, inUse) {
		const key = String(rawKey).toUpperCase();
		if (!this.items.has(key))
			return fail(404, 'status not found');
		const n = inUse(key);
		if (n > 0)
			return fail(409, 'cannot delete status: ' + n + ' alert(s) use ' +
			    'this status - reassign them to another status first');
		this.items.delete(key);
		return { status: 200, body: { message: 'Status deleted' } };
	}

	toState() {
		return Array.from(this.items.values());
	}

	loadState(list) {
		this.items = new Map((list || []).map((s) => [s.key, s]));
	}
}

/* The alerts of one instance. */
class Alerts {
	constructor() {
		this.items = new Map();
	}

	/*
	 * Flags an entity of core.  Returns {status, body}.  installId names
	 * the app (kept for the simulator's dump, not shown to the app).
	 */
	flag(core, entityId, body, installId) {
		const kind = KINDS[String(entityId).split('_')[0]];
		if (kind === undefined)
			return fail(400, 'id must be a balance (bln_), transaction ' +
			    '(txn_) or identity (idt_) id');
		if (core.findEntity(entityId) === undefined)
			return fail(404, kind.type.toLowerCase() + ' not found');
		const bad = checkText(body, ['title', 'description']);
		if (bad !== null)
			return bad;
		if (!body.description || body.description.trim() === '')
			return fail(400, 'description is required');
		const now = new Date().toISOString();
		const a = {
			anomaly_id: 'ano_' + crypto.randomUUID(),
			title: body.title || '', description: body.description,
			type: kind.type, assigned_to: '', escalated_to: [],
			status: 'FLAGGED', created_at: now, updated_at: now,
			affected_balances: [], affected_identities: [],
			affected_transactions: [],
		};
		a[kind.list].push(entityId);
		this.items.set(a.anomaly_id, { alert: a, installId });
		return { status: 201, body: a };
	}

	/* Updates title, description or status (statuses: AlertStatuses). */
	update(id, body, statuses) {
		const e = this.items.get(id);
		if (e === undefined)
			return fail(404, 'alert not found');
		const bad = checkText(body, ['title', 'description', 'status']);
		if (bad !== null)
			return bad;
		if (body.description !== undefined && body.description.trim() === '')
			return fail(400, 'description cannot be empty');
		if (body.status !== undefined && !statuses.has(body.status))
			return fail(400, 'unknown status ' + body.status.slice(0, 40) +
			    ': use FLAGGED, INVESTIGATING, RESOLVED or a key from ' +
			    '/alerts/statuses');
		for (const k of ['title', 'description', 'status'])
			if (body[k] !== undefined)
				e.alert[k] = body[k];
		e.alert.updated_at = new Date().toISOString();
		return { status: 200, body: e.alert };
	}

	/* Returns all alerts, newest first. */
	list() {
		return Array.from(this.items.values(), (e) => e.alert).reverse();
	}

	/* Counts the alerts with a status. */
	countStatus(key) {
		return this.list().filter((a) => a.status === key).length;
	}

	/* Returns {status, body} for one alert. */
	get(id) {
		const e = this.items.get(id);
		return e === undefined ? fail(404, 'alert not found') :
		    { status: 200, body: e.alert };
	}

	toState() {
		return Array.from(this.items.values());
	}

	loadState(list) {
		this.items = new Map((list || []).map((e) =>
		    [e.alert.anomaly_id, e]));
	}
}

module.exports = { Alerts, AlertStatuses, ALLOWED_COLOURS, BUILTIN_STATUSES,
    deriveKey };
