'use strict';
/*
 * The JSON control API under /_sim/, for tests and scripts.  It does what
 * the dashboard does (register, install, uninstall, redeliver, launch)
 * and more: fault injection, the audit log, a Core dump, reset.
 *
 * A browser page on another origin must not drive it: POSTs carrying a
 * foreign Origin header, or a body type a cross-site form can send
 * without a CORS preflight, are refused.  The frame (method, refusal,
 * body) is tools/sim-lib/control.js, shared with stripe-sim; which body
 * types are refused is ours: a POST with no Content-Type passes (scripts
 * post with curl -X POST).
 */

const { readBody, parseJsonObject, sendJson } = require('./http-util');
const { ControlApi, mediaType, foreignOrigin } =
    require('../../sim-lib/control');

/* Body types a cross-site page can POST without a preflight. */
const SIMPLE_TYPES = ['application/x-www-form-urlencoded',
    'multipart/form-data', 'text/plain'];

/* Returns true when a POST could have come from a cross-site page. */
function crossSite(req, origins) {
	return foreignOrigin(req, origins) ||
	    SIMPLE_TYPES.includes(mediaType(req));
}

/* Returns the JSON dump of one instance's Core and alerts. */
function coreDump(cloud, instanceId) {
	const core = cloud.coreFor(instanceId);
	return {
		instance_id: instanceId,
		ledgers: core.list('ledgers'), balances: core.list('balances'),
		identities: core.list('identities'),
		transactions: core.list('transactions'),
		alerts: cloud.alertsFor(instanceId).list(),
		alert_statuses: cloud.alertStatuses.list().body.data,
		pending: core.pending(),
		queue: core.queue.map((e) => ({ reference: e.txn.reference,
		    due_in_ms: Math.max(0, e.due - Date.now()) })),
		dropped: core.dropped,
	};
}

class Control extends ControlApi {
	/* sim: {cloud, gateway, faults, origins()} */
	constructor(sim) {
		super(sim, { sendJson, readBody, parseJsonObject,
		    crossSite: (req) => crossSite(req, sim.origins()) });
	}

	/* After a POST: the state changed (the --state-file is written). */
	posted() {
		this.sim.cloud.onChange();
	}

	/* Returns {status, body} for a GET. */
	get(name, params) {
		const { cloud, gateway, faults } = this.sim;
		switch (name) {
		case 'health':
			return { status: 200, body: { ok: true } };
		case 'installs':
			return { status: 200, body: { data: cloud.summaries() } };
		case 'audit':
			return { status: 200, body: { data: gateway.audit } };
		case 'faults':
			return { status: 200, body: faults.state() };
		case 'registration':
			return { status: 200, body: cloud.registration() };
		case 'queue':
			return { status: 200, body: { delay_ms: cloud.queueDelayMs } };
		case 'connections':
			return { status: 200, body: Object.assign({},
			    this.sim.conns) };
		case 'core':
			return { status: 200, body: coreDump(cloud,
			    params.get('instance_id') || cloud.defaultInstanceId) };
		default:
			return { status: 404, body: { error: 'no such control call' } };
		}
	}

	/*
	 * POST /_sim/queue {delay_ms?, flush?}: sets the Core queue delay (for
	 * what waits already, too) and/or processes everything queued now.
	 */
	queue(body) {
		const { cloud } = this.sim;
		const d = body.delay_ms;
		if (d !== undefined && (!Number.isInteger(d) || d < 0 ||
		    d > 3600000))
			return { status: 400, body: { error: 'delay_ms must be an ' +
			    'integer 0..3600000' } };
		if (body.flush !== undefined && typeof body.flush !== 'boolean')
			return { status: 400, body: { error: 'flush must be a boolean' } };
		if (d !== undefined)
			cloud.setQueueDelay(d);
		if (body.flush === true)
			cloud.flushQueues();
		return { status: 200, body: { delay_ms: cloud.queueDelayMs } };
	}

	/* Returns {status, body} for a POST. */
	async post(name, body) {
		const { cloud, gateway, faults } = this.sim;
		const id = body.installed_app_id;
		switch (name) {
		case 'register':
			return cloud.register();
		case 'install':
			return cloud.install(body.scopes !== undefined ? body.scopes :
			    cloud.registered ? cloud.registered.permissions : [],
			    body.instance_id);
		case 'uninstall':
			return cloud.uninstall(id);
		case 'redeliver':
			return cloud.redeliver(id);
		case 'launch':
			return cloud.launch(id);
		case 'faults': {
			const msg = faults.set(body);
			return msg === null ? { status: 200, body: faults.state() } :
			    { status: 400, body: { error: msg } };
		}
		case 'queue':
			return this.queue(body);
		case 'tamper':
			return cloud.coreFor(body.instance_id ||
			    cloud.defaultInstanceId).tamper(body);
		case 'reset':
			cloud.reset();
			gateway.reset();
			faults.clear();
			return { status: 200, body: { reset: true } };
		default:
			return { status: 404, body: { error: 'no such control call' } };
		}
	}
}

module.exports = { Control, crossSite };
