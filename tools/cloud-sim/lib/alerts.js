'use strict';
/*
 * Cloud-native alerts of one instance: an app flags a balance, a
 * transaction or an identity with a title and a description, may update
 * the alert later, and may list and read alerts.
 */

const crypto = require('node:crypto');
const { coreErrorBody } = require('./http-util');

/* The statuses an alert can have (not documented by Blnk; ours). */
const STATUSES = ['open', 'acknowledged', 'resolved', 'dismissed'];

/* Entity types by id prefix. */
const ENTITY_TYPES = { bln: 'balance', txn: 'transaction', idt: 'identity' };

/* Returns {status, body} for an error. */
function fail(status, code, message) {
	return { status, body: coreErrorBody(code, message) };
}

/* Returns null or an error when title/description are not strings. */
function checkText(body, requireTitle) {
	if (requireTitle && (typeof body.title !== 'string' ||
	    body.title.trim() === ''))
		return fail(400, 'GEN_VALIDATION_ERROR', 'title is required');
	for (const k of ['title', 'description'])
		if (body[k] !== undefined && typeof body[k] !== 'string')
			return fail(400, 'GEN_VALIDATION_ERROR', k +
			    ' must be a string');
	for (const k of ['title', 'description'])
		if (typeof body[k] === 'string' && body[k].length > 2000)
			return fail(400, 'GEN_VALIDATION_ERROR', k + ' is too long');
	return null;
}

class Alerts {
	constructor() {
		this.items = new Map();
	}

	/*
	 * Flags an entity.  core is the instance's Core (the entity must exist
	 * there); installId names the app that flagged it.  Returns
	 * {status, body}.
	 */
	flag(core, entityId, body, installId) {
		const type = ENTITY_TYPES[String(entityId).split('_')[0]];
		if (type === undefined)
			return fail(400, 'GEN_VALIDATION_ERROR', 'alerts flag a ' +
			    'balance (bln_), transaction (txn_) or identity (idt_)');
		if (core.findEntity(entityId) === undefined)
			return fail(404, 'GEN_NOT_FOUND', type + ' not found');
		const bad = checkText(body, true);
		if (bad !== null)
			return bad;
		const now = new Date().toISOString();
		const a = {
			alert_id: 'alt_' + crypto.randomUUID(), entity_id: entityId,
			entity_type: type, title: body.title,
			description: body.description || '', status: 'open',
			installed_app_id: installId, created_at: now, updated_at: now,
		};
		this.items.set(a.alert_id, a);
		return { status: 201, body: a };
	}

	/* Updates title, description or status.  Returns {status, body}. */
	update(alertId, body) {
		const a = this.items.get(alertId);
		if (a === undefined)
			return fail(404, 'GEN_NOT_FOUND', 'alert not found');
		const bad = checkText(body, false);
		if (bad !== null)
			return bad;
		if (body.status !== undefined && !STATUSES.includes(body.status))
			return fail(400, 'GEN_VALIDATION_ERROR', 'status must be ' +
			    'one of ' + STATUSES.join(', '));
		for (const k of ['title', 'description', 'status'])
			if (body[k] !== undefined)
				a[k] = body[k];
		a.updated_at = new Date().toISOString();
		return { status: 200, body: a };
	}

	/* Returns all alerts, newest first. */
	list() {
		return Array.from(this.items.values()).reverse();
	}

	/* Returns {status, body} for one alert. */
	get(alertId) {
		const a = this.items.get(alertId);
		return a === undefined ? fail(404, 'GEN_NOT_FOUND',
		    'alert not found') : { status: 200, body: a };
	}
}

module.exports = { Alerts, STATUSES };
