'use strict';
/*
 * The Cloud side of an app's life: registration from the manifest,
 * installs (minting and revoking scoped api keys), the install and
 * uninstall events sent to callback_url, redelivery, and launch through
 * portal_url.  Also owns one Core model and one alert list per instance.
 *
 * Full api keys live only in this.keys (for redelivery and the gateway's
 * lookup); every summary, log line and notice carries the prefix only.
 */

const crypto = require('node:crypto');
const { Core } = require('./core');
const { Alerts, AlertStatuses } = require('./alerts');
const manifest = require('./manifest');

/* Returns a random id "<prefix>_<24 hex>". */
function randomId(prefix) {
	return prefix + '_' + crypto.randomBytes(12).toString('hex');
}

/* Returns a new api key: "blnk_" + 40 url-safe characters. */
function mintKey() {
	return 'blnk_' + crypto.randomBytes(30).toString('base64url');
}

/* Returns the prefix of a key that may be shown: its first 8 chars. */
function keyPrefix(key) {
	return typeof key === 'string' ? key.slice(0, 8) : null;
}

/* Returns the lookup hash of a key. */
function keyHash(key) {
	return crypto.createHash('sha256').update(key).digest('hex');
}

class Cloud {
	/*
	 * opts: manifestPath, appBase, callbackSecret, allowHttp, outbound
	 * (an Outbound), queueDelayMs, exposeKeys, log(line).
	 */
	constructor(opts) {
		this.opts = opts;
		this.log = opts.log || (() => {});
		this.outbound = opts.outbound;
		this.appId = randomId('app');
		this.orgId = randomId('org');
		this.defaultInstanceId = opts.instanceId || randomId('inst');
		this.queueDelayMs = opts.queueDelayMs === undefined ? 50 :
		    opts.queueDelayMs;
		this.onChange = opts.onChange || (() => {});
		this.reset();
	}

	/* Forgets registration, installs, keys, Core data and notices. */
	reset() {
		if (this.cores)
			for (const c of this.cores.values())
				c.stop();
		this.registered = null;		/* resolved manifest */
		this.installs = new Map();	/* id -> record */
		this.keys = new Map();		/* id -> full key */
		this.keyIndex = new Map();	/* hash -> id */
		this.cores = new Map();		/* instance -> Core */
		this.alerts = new Map();	/* instance -> Alerts */
		this.alertStatuses = new AlertStatuses(this.orgId);
		this.notices = [];
		this.onChange();
	}

	/* Counts the alerts of every instance with a status key. */
	alertsInUse(key) {
		let n = 0;
		for (const a of this.alerts.values())
			n += a.countStatus(key);
		return n;
	}

	/* Sets the Core queue delay of every instance, now and later. */
	setQueueDelay(ms) {
		this.queueDelayMs = ms;
		for (const c of this.cores.values())
			c.setQueueDelay(ms);
	}

	/* Processes every queued transaction of every instance now. */
	flushQueues() {
		for (const c of this.cores.values())
			c.flushQueue();
	}

	/*
	 * Returns everything worth keeping across a restart (for
	 * --state-file): ids, registration, installs with their keys, every
	 * Core, alerts and statuses.  Holds full api keys: the file is 0600.
	 */
	toState() {
		return {
			version: 1, app_id: this.appId, org_id: this.orgId,
			default_instance_id: this.defaultInstanceId,
			registered: this.registered !== null,
			installs: Array.from(this.installs.values()),
			keys: Array.from(this.keys.entries()),
			cores: Array.from(this.cores.entries(), ([i, c]) =>
			    [i, c.toState()]),
			alerts: Array.from(this.alerts.entries(), ([i, a]) =>
			    [i, a.toState()]),
			alert_statuses: this.alertStatuses.toState(),
		};
	}

	/*
	 * Loads a state written by toState().  The registration is read from
	 * the manifest again (it may have changed); an install that was
	 * halfway (installing, uninstalling) when the simulator stopped is
	 * failed with its key revoked, or stays installed, as Cloud would
	 * leave it.
	 */
	loadState(st) {
		if (st.version !== 1)
			throw new Error('unknown state file version');
		this.appId = st.app_id;
		this.orgId = st.org_id;
		this.defaultInstanceId = this.opts.instanceId ||
		    st.default_instance_id;
		this.alertStatuses = new AlertStatuses(this.orgId);
		this.alertStatuses.loadState(st.alert_statuses);
		this.keys = new Map(st.keys);
		this.keyIndex = new Map();
		this.installs = new Map();
		for (const r of st.installs) {
			if (r.status === 'installing')
				this.setState(r, 'failed', 'the simulator stopped during ' +
				    'the install; key revoked');
			else if (r.status === 'uninstalling')
				this.setState(r, 'installed', 'the simulator stopped ' +
				    'during the uninstall');
			if (r.status === 'failed' || r.status === 'uninstalled')
				r.key_active = false;
			this.installs.set(r.installed_app_id, r);
			const key = this.keys.get(r.installed_app_id);
			if (r.key_active && key !== undefined)
				this.keyIndex.set(keyHash(key), r.installed_app_id);
		}
		for (const [inst, cs] of st.cores)
			this.coreFor(inst).loadState(cs);
		for (const [inst, as] of st.alerts)
			this.alertsFor(inst).loadState(as);
		if (st.registered)
			this.register();
	}

	/* Cancels timers and outbound calls. */
	stop() {
		for (const c of this.cores.values())
			c.stop();
		this.outbound.stop();
	}

	/* Returns s with the callback secret masked. */
	mask(s) {
		return manifest.maskSecret(s, this.opts.callbackSecret);
	}

	/* Records a line for the dashboard and the log (secret masked). */
	notice(kind, text) {
		const line = this.mask(text);
		this.notices.unshift({ at: new Date().toISOString(), kind,
		    text: line });
		this.notices.length = Math.min(this.notices.length, 20);
		this.log(line);
	}

	/* Returns the Core model of an instance (created on first use). */
	coreFor(instanceId) {
		let c = this.cores.get(instanceId);
		if (c === undefined) {
			c = new Core({ queueDelayMs: this.queueDelayMs,
			    onChange: () => this.onChange() });
			this.cores.set(instanceId, c);
		}
		return c;
	}

	/* Returns the alert list of an instance (created on first use). */
	alertsFor(instanceId) {
		let a = this.alerts.get(instanceId);
		if (a === undefined) {
			a = new Alerts();
			this.alerts.set(instanceId, a);
		}
		return a;
	}

	/*
	 * Registers the app from the manifest file (again, if it changed).
	 * Returns {status, body}.
	 */
	register() {
		const l = manifest.loadManifest(this.opts.manifestPath);
		if (!l.ok)
			return { status: 400, body: { error: l.message } };
		const r = manifest.resolveManifest(l.manifest, this.opts);
		if (!r.ok)
			return { status: 400, body: { error: r.message } };
		this.registered = r.manifest;
		this.onChange();
		this.notice('ok', 'registered app "' + r.manifest.name + '" as ' +
		    this.appId);
		return { status: 200, body: this.registration() };
	}

	/* Returns the public view of the registration (secret masked). */
	registration() {
		return {
			registered: this.registered !== null, app_id: this.appId,
			default_instance_id: this.defaultInstanceId,
			manifest: this.registered === null ? null :
			    manifest.publicManifest(this.registered,
			    this.opts.callbackSecret),
		};
	}

	/* Returns the active (installing/installed) install of an instance. */
	activeInstall(instanceId) {
		for (const r of this.installs.values())
			if (r.instance_id === instanceId &&
			    ['installing', 'installed', 'uninstalling'].includes(r.status))
				return r;
		return null;
	}

	/* Checks an install request.  Returns null or {status, body}. */
	checkInstall(scopes, instanceId) {
		if (this.registered === null)
			return { status: 409, body: { error: 'app is not registered' } };
		if (!Array.isArray(scopes) ||
		    !scopes.every((s) => typeof s === 'string'))
			return { status: 400, body: { error: 'scopes must be a list' } };
		const extra = scopes.filter((s) =>
		    !this.registered.permissions.includes(s));
		if (extra.length > 0)
			return { status: 400, body: { error: 'scope not requested ' +
			    'by the manifest: ' + extra.join(', ').slice(0, 100) } };
		if (typeof instanceId !== 'string' || !/^inst_\w+$/.test(instanceId))
			return { status: 400, body: { error: 'bad instance_id' } };
		if (this.activeInstall(instanceId) !== null)
			return { status: 409, body: { error: 'the app is already ' +
			    'installed on ' + instanceId + ' (one install per ' +
			    'organization and instance)' } };
		return null;
	}

	/* Creates an install record with a fresh key; returns the record. */
	createInstall(scopes, instanceId) {
		const key = mintKey();
		const now = new Date().toISOString();
		const rec = {
			installed_app_id: randomId('instapp'), app_id: this.appId,
			instance_id: instanceId, api_key_prefix: keyPrefix(key),
			granted_permissions: Array.from(new Set(scopes)),
			status: 'installing', key_active: true, created_at: now,
			updated_at: now, uninstalled_at: null, last_error: null,
			events: [], last_launch: null,
		};
		this.installs.set(rec.installed_app_id, rec);
		this.keys.set(rec.installed_app_id, key);
		this.keyIndex.set(keyHash(key), rec.installed_app_id);
		return rec;
	}

	/* Revokes an install's key. */
	revokeKey(rec) {
		rec.key_active = false;
		const key = this.keys.get(rec.installed_app_id);
		if (key !== undefined)
			this.keyIndex.delete(keyHash(key));
	}

	/* Sets status and error of a record. */
	setState(rec, status, error) {
		rec.status = status;
		rec.last_error = error;
		rec.updated_at = new Date().toISOString();
		this.onChange();
	}

	/* Sends an event to callback_url and records the delivery. */
	async deliver(rec, event) {
		const res = await this.outbound.post(this.registered.callback_url,
		    event.body);
		event.deliveries.push({
			at: new Date().toISOString(), ok: res.ok,
			http_status: res.status, error: res.error,
			duration_ms: res.duration_ms,
		});
		return res;
	}

	/* Appends an event to a record and returns it. */
	addEvent(rec, type, body) {
		const ev = { type, idempotency_key: body.idempotency_key, body,
		    deliveries: [] };
		rec.events.push(ev);
		return ev;
	}

	/*
	 * Installs the app with the granted scopes.  Returns {status, body};
	 * body.status is "installed" or "failed".
	 */
	async install(scopes, instanceId) {
		const inst = instanceId || this.defaultInstanceId;
		const bad = this.checkInstall(scopes, inst);
		if (bad !== null)
			return bad;
		const rec = this.createInstall(scopes, inst);
		const ev = this.addEvent(rec, 'install', {
			installed_app_id: rec.installed_app_id, app_id: rec.app_id,
			instance_id: rec.instance_id,
			api_key: this.keys.get(rec.installed_app_id),
			api_key_prefix: rec.api_key_prefix,
			granted_permissions: rec.granted_permissions,
			idempotency_key: 'install:' + rec.installed_app_id,
		});
		const res = await this.deliver(rec, ev);
		if (res.ok)
			this.setState(rec, 'installed', null);
		else {
			this.setState(rec, 'failed', 'install event failed: ' +
			    res.error + '; key revoked');
			this.revokeKey(rec);
		}
		this.notice(res.ok ? 'ok' : 'error', 'install ' +
		    rec.installed_app_id + ' key ' + rec.api_key_prefix + '... [' +
		    rec.granted_permissions.join(' ') + '] -> ' + rec.status +
		    (res.ok ? '' : ' (' + res.error + ')'));
		return { status: res.ok ? 200 : 502,
		    body: this.installResult(rec, res) };
	}

	/* Returns the control-API answer for an install attempt. */
	installResult(rec, res) {
		const body = {
			installed_app_id: rec.installed_app_id, app_id: rec.app_id,
			instance_id: rec.instance_id,
			api_key_prefix: rec.api_key_prefix,
			granted_permissions: rec.granted_permissions,
			status: rec.status, http_status: res.status,
			error: rec.last_error,
		};
		if (this.opts.exposeKeys)
			body.api_key = this.keys.get(rec.installed_app_id);
		return body;
	}

	/* Returns the record for an id, or a {status, body} 404 in .err. */
	lookup(id) {
		const rec = typeof id === 'string' ? this.installs.get(id) :
		    undefined;
		if (rec === undefined)
			return { err: { status: 404,
			    body: { error: 'no such install' } } };
		return { rec };
	}

	/* Marks an install uninstalled and revokes its key. */
	completeUninstall(rec, at) {
		this.setState(rec, 'uninstalled', null);
		rec.uninstalled_at = at;
		this.revokeKey(rec);
	}

	/*
	 * Uninstalls: sends the uninstall event; only a 2xx completes it.
	 * Returns {status, body}.
	 */
	async uninstall(id) {
		const { rec, err } = this.lookup(id);
		if (err)
			return err;
		if (rec.status !== 'installed')
			return { status: 409, body: { error: 'install is ' +
			    rec.status + ', not installed' } };
		const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
		const ev = this.addEvent(rec, 'uninstall', {
			installed_app_id: rec.installed_app_id, app_id: rec.app_id,
			instance_id: rec.instance_id, uninstalled_at: at,
			idempotency_key: 'uninstall:' + rec.installed_app_id,
		});
		this.setState(rec, 'uninstalling', null);
		const res = await this.deliver(rec, ev);
		if (res.ok)
			this.completeUninstall(rec, at);
		else
			this.setState(rec, 'installed', 'uninstall event failed: ' +
			    res.error + '; the app stays installed');
		this.notice(res.ok ? 'ok' : 'error', 'uninstall ' +
		    rec.installed_app_id + ' -> ' + rec.status +
		    (res.ok ? ' (key ' + rec.api_key_prefix + '... revoked)' :
		    ' (' + res.error + ')'));
		return { status: res.ok ? 200 : 502, body: {
			installed_app_id: rec.installed_app_id, status: rec.status,
			http_status: res.status, error: rec.last_error,
		} };
	}

	/*
	 * Re-sends the last event of an install, unchanged (same
	 * idempotency_key).  A redelivered uninstall that gets a 2xx while
	 * the install is still installed completes the uninstall (a retry);
	 * nothing else changes state.  Returns {status, body}.
	 */
	async redeliver(id) {
		const { rec, err } = this.lookup(id);
		if (err)
			return err;
		if (rec.status === 'installing' || rec.status === 'uninstalling')
			return { status: 409, body: { error: 'a delivery is in ' +
			    'progress' } };
		const ev = rec.events[rec.events.length - 1];
		const res = await this.deliver(rec, ev);
		if (ev.type === 'uninstall' && res.ok && rec.status === 'installed')
			this.completeUninstall(rec, ev.body.uninstalled_at);
		this.notice(res.ok ? 'ok' : 'error', 'redeliver ' + ev.type +
		    ' event ' + ev.idempotency_key + ' -> ' +
		    (res.ok ? 'HTTP ' + res.status : res.error));
		return { status: res.ok ? 200 : 502, body: {
			installed_app_id: rec.installed_app_id, event: ev.type,
			idempotency_key: ev.idempotency_key, ok: res.ok,
			http_status: res.status, status: rec.status,
			error: res.ok ? null : res.error,
		} };
	}

	/* Checks an app's launch answer; returns the portal_url or null. */
	static portalUrlOf(body) {
		if (body === null || typeof body !== 'object' ||
		    typeof body.portal_url !== 'string')
			return null;
		try {
			const u = new URL(body.portal_url);
			return u.protocol === 'https:' || u.protocol === 'http:' ?
			    body.portal_url : null;
		} catch (e) {
			return null;
		}
	}

	/*
	 * Launches: POSTs to portal_url and expects {"portal_url": "..."}.
	 * Returns {status, body: {portal_url, http_status, body, error}}.
	 */
	async launch(id) {
		const { rec, err } = this.lookup(id);
		if (err)
			return err;
		if (rec.status !== 'installed')
			return { status: 409, body: { error: 'install is ' +
			    rec.status + ', not installed' } };
		const res = await this.outbound.post(this.registered.portal_url, {
			installed_app_id: rec.installed_app_id, app_id: rec.app_id,
			instance_id: rec.instance_id,
		});
		const url = res.ok ? Cloud.portalUrlOf(res.body) : null;
		const error = !res.ok ? res.error : url === null ?
		    'app answer has no valid portal_url' : null;
		rec.last_launch = { at: new Date().toISOString(),
		    ok: error === null, http_status: res.status, error };
		this.notice(error === null ? 'ok' : 'error', 'launch ' +
		    rec.installed_app_id + ' -> ' + (error === null ?
		    'portal_url received' : error));
		return { status: error === null ? 200 : 502, body: {
			installed_app_id: rec.installed_app_id, portal_url: url,
			http_status: res.status,
			body: res.body !== null ? res.body : res.text, error,
		} };
	}

	/*
	 * Finds the install of a presented key.  Returns {rec} or {reason}
	 * ("missing", "unknown", "revoked").
	 */
	authenticate(key) {
		if (typeof key !== 'string' || key === '')
			return { reason: 'missing' };
		const id = this.keyIndex.get(keyHash(key));
		if (id !== undefined)
			return { rec: this.installs.get(id) };
		for (const [iid, k] of this.keys)
			if (k === key && !this.installs.get(iid).key_active)
				return { reason: 'revoked' };
		return { reason: 'unknown' };
	}

	/* Returns the public summaries of all installs, newest first. */
	summaries() {
		return Array.from(this.installs.values()).reverse().map((r) => ({
			installed_app_id: r.installed_app_id, app_id: r.app_id,
			instance_id: r.instance_id, api_key_prefix: r.api_key_prefix,
			granted_permissions: r.granted_permissions, status: r.status,
			key_active: r.key_active, created_at: r.created_at,
			updated_at: r.updated_at, uninstalled_at: r.uninstalled_at,
			last_error: r.last_error, last_launch: r.last_launch,
			events: r.events.map((e) => ({ type: e.type,
			    idempotency_key: e.idempotency_key,
			    deliveries: e.deliveries })),
		}));
	}
}

module.exports = { Cloud, mintKey, keyPrefix };
