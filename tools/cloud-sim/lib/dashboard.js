'use strict';
/*
 * The simulated Cloud dashboard: plain HTML forms on the simulator's own
 * origin.  Registration, install (choose scopes), uninstall, redeliver,
 * launch (a page that frames the app's portal_url, with an "Open" link),
 * and the gateway audit log.  No scripts.
 */

const { readBody, sendHtml, redirect, escapeHtml: h } =
    require('./http-util');

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f5f6f8}
header{background:#14213d;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#cfe0ff}main{padding:16px 20px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:12px 16px;margin-bottom:16px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eceff2;padding:5px 6px;text-align:left;vertical-align:top}
code{font-size:12px;word-break:break-all}.st{padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.installed,.ok{background:#d8f5df;color:#11632b}.failed,.error{background:#fde0e0;color:#8a1212}
.installing,.uninstalling{background:#fff3cd;color:#7a5a00}.uninstalled{background:#e6e8eb;color:#444}
.err{color:#8a1212}form.inline{display:inline}button{margin:2px}
.frame{width:100%;height:75vh;border:1px solid #c8ccd2;border-radius:4px;background:#fff}
`;

/* Returns a whole page around body. */
function page(title, body) {
	return '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
	    '<title>' + h(title) + ' - Blnk Cloud simulator</title><style>' +
	    STYLE + '</style></head><body><header><strong>Blnk Cloud ' +
	    'simulator</strong><a href="/dashboard">Apps</a>' +
	    '<a href="/dashboard/audit">Audit log</a></header><main>' + body +
	    '</main></body></html>';
}

/* Returns a status badge. */
function badge(status) {
	return '<span class="st ' + h(status) + '">' + h(status) + '</span>';
}

/* Returns the registration section. */
function registrationHtml(reg) {
	if (!reg.registered)
		return '<section><h2>Register app</h2><p>Reads the manifest ' +
		    'file and registers the app in this organization.</p>' +
		    '<form method="post" action="/dashboard/register">' +
		    '<button>Register from manifest</button></form></section>';
	const m = reg.manifest;
	const rows = ['name', 'description', 'developer', 'logo_url',
	    'callback_url', 'portal_url', 'launch_access'].map((k) =>
	    '<tr><th>' + h(k) + '</th><td><code>' + h(m[k]) +
	    '</code></td></tr>').join('');
	return '<section><h2>' + h(m.name) + ' <small>' + h(reg.app_id) +
	    '</small></h2><table>' + rows + '<tr><th>permissions</th><td>' +
	    h(m.permissions.join(', ')) + '</td></tr></table>' +
	    '<p><small>The callback secret is never shown.</small></p>' +
	    '<form method="post" action="/dashboard/register"><button>' +
	    'Reload manifest</button></form></section>';
}

/* Returns the install form (a checkbox per requested scope). */
function installFormHtml(reg) {
	if (!reg.registered)
		return '';
	const boxes = reg.manifest.permissions.map((p) =>
	    '<label><input type="checkbox" name="scope" value="' + h(p) +
	    '" checked> ' + h(p) + '</label> ').join('');
	return '<section><h2>Install</h2><form method="post" ' +
	    'action="/dashboard/install"><p>Instance <code>' +
	    h(reg.default_instance_id) + '</code></p><p>Grant: ' + boxes +
	    '</p><button>Install</button></form></section>';
}

/* Returns the action buttons of one install. */
function actionsHtml(r) {
	const id = encodeURIComponent(r.installed_app_id);
	const btn = (what, label) => '<form class="inline" method="post" ' +
	    'action="/dashboard/installs/' + id + '/' + what + '"><button>' +
	    label + '</button></form>';
	let out = btn('redeliver', 'Redeliver last event');
	if (r.status === 'installed')
		out = '<a href="/dashboard/launch/' + id + '">Launch app</a> ' +
		    btn('uninstall', 'Uninstall') + out;
	return out;
}

/* Returns the delivery history of one install. */
function eventsHtml(r) {
	return r.events.map((e) => '<div><code>' + h(e.idempotency_key) +
	    '</code>: ' + e.deliveries.map((d) => d.ok ?
	    badge('ok') + ' ' + h(d.http_status) :
	    '<span class="err">' + h(d.error) + '</span>').join(', ') +
	    '</div>').join('');
}

/* Returns the installs table. */
function installsHtml(list) {
	if (list.length === 0)
		return '<section><h2>Installs</h2><p>None yet.</p></section>';
	const rows = list.map((r) => '<tr><td><code>' +
	    h(r.installed_app_id) + '</code><br><small>' + h(r.instance_id) +
	    '</small></td><td>' + badge(r.status) + (r.last_error ?
	    '<div class="err">' + h(r.last_error) + '</div>' : '') +
	    '</td><td><code>' + h(r.api_key_prefix) + '...</code> ' +
	    (r.key_active ? 'active' : 'revoked') + '</td><td>' +
	    h(r.granted_permissions.join(', ')) + '</td><td>' + eventsHtml(r) +
	    '</td><td>' + actionsHtml(r) + '</td></tr>').join('');
	return '<section><h2>Installs</h2><table><tr><th>Install</th>' +
	    '<th>Status</th><th>Key</th><th>Granted</th><th>Events</th>' +
	    '<th></th></tr>' + rows + '</table></section>';
}

/* Returns the recent notices. */
function noticesHtml(notices) {
	if (notices.length === 0)
		return '';
	return '<section><h2>Recent activity</h2>' + notices.slice(0, 8)
	    .map((n) => '<div>' + badge(n.kind) + ' ' + h(n.at) + ' ' +
	    h(n.text) + '</div>').join('') + '</section>';
}

/* Returns the launch page: the portal in an iframe, or the error. */
function launchHtml(id, result) {
	const b = result.body;
	if (result.status !== 200)
		return page('Launch failed', '<section><h2>Launch failed</h2>' +
		    '<p class="err">' + h(b.error) + '</p><p>Install <code>' +
		    h(id) + '</code>' + (b.http_status ? ', app answered HTTP ' +
		    h(b.http_status) : '') + '.</p><p><a href="/dashboard">' +
		    'Back to apps</a></p></section>');
	return page('App', '<section><p>Install <code>' + h(id) +
	    '</code> <a id="open" href="' + h(b.portal_url) + '" ' +
	    'target="_blank" rel="noopener noreferrer">Open</a></p>' +
	    '<iframe id="app" class="frame" title="app portal" src="' +
	    h(b.portal_url) + '"></iframe></section>');
}

/* Returns the audit page. */
function auditHtml(entries) {
	const rows = entries.slice().reverse().slice(0, 500).map((e) =>
	    '<tr><td>' + h(e.at) + '</td><td><code>' + h(e.installed_app_id) +
	    '</code></td><td><code>' + h(e.api_key_prefix) + '</code></td><td>' +
	    h(e.method) + '</td><td><code>' + h(e.path) + '</code></td><td>' +
	    h(e.status) + (e.fault ? ' (fault ' + h(e.fault) + ')' : '') +
	    '</td></tr>').join('');
	return page('Audit log', '<section><h2>Gateway audit log</h2><table>' +
	    '<tr><th>Time</th><th>Install</th><th>Key prefix</th><th>Method' +
	    '</th><th>Path</th><th>Status</th></tr>' + rows +
	    '</table></section>');
}

/* Returns the decoded path segment, or '' when malformed. */
function safeDecode(seg) {
	try {
		return decodeURIComponent(seg);
	} catch (e) {
		return '';
	}
}

/* Returns the scopes ticked in an urlencoded install form. */
function formScopes(buf) {
	return new URLSearchParams(buf.toString('utf8')).getAll('scope');
}

/*
 * Returns true when a POST may come from another page than ours: an
 * Origin that is not ours (including "null", an opaque origin: a sandboxed
 * frame, a data: page, or a no-referrer page), or a browser's
 * Sec-Fetch-Site that is not same-origin.  A client that sends neither
 * (curl, a script) is not a browser page and may post.
 */
function foreign(req, origins) {
	const origin = req.headers.origin;
	if (origin !== undefined && !origins.includes(origin))
		return true;
	const site = req.headers['sec-fetch-site'];
	return site !== undefined && site !== 'same-origin' && site !== 'none';
}

class Dashboard {
	/* cloud: the Cloud; gateway: for the audit log; origins: allowed. */
	constructor(cloud, gateway, origins) {
		this.cloud = cloud;
		this.gateway = gateway;
		this.origins = origins;
	}

	/* Returns true when a path is the dashboard's. */
	static owns(p) {
		return p === '/' || p === '/dashboard' || p.startsWith('/dashboard/');
	}

	/* Returns the main page. */
	mainHtml() {
		const reg = this.cloud.registration();
		return page('Apps', registrationHtml(reg) + installFormHtml(reg) +
		    installsHtml(this.cloud.summaries()) +
		    noticesHtml(this.cloud.notices));
	}

	/*
	 * Handles a dashboard request.  POSTs from another origin are refused
	 * (a web page elsewhere must not drive the simulator).
	 */
	async handle(req, res, url) {
		const p = url.pathname;
		if (req.method === 'GET')
			return this.handleGet(res, p);
		if (req.method !== 'POST')
			return sendHtml(res, 405, page('Error', 'Method not allowed'));
		if (foreign(req, this.origins()))
			return sendHtml(res, 403, page('Error', 'Cross-origin ' +
			    'request refused'));
		const buf = await readBody(req);
		return this.handlePost(res, p, buf);
	}

	/* Serves the GET pages. */
	async handleGet(res, p) {
		if (p === '/')
			return redirect(res, '/dashboard');
		if (p === '/dashboard')
			return sendHtml(res, 200, this.mainHtml());
		if (p === '/dashboard/audit')
			return sendHtml(res, 200, auditHtml(this.gateway.audit));
		const m = /^\/dashboard\/launch\/([^/]+)$/.exec(p);
		if (m !== null) {
			const id = safeDecode(m[1]);
			const r = await this.cloud.launch(id);
			return sendHtml(res, r.status === 200 ? 200 : 502,
			    launchHtml(id, r));
		}
		return sendHtml(res, 404, page('Not found', 'Not found'));
	}

	/* Runs a POSTed action, then shows the main page again. */
	async handlePost(res, p, buf) {
		if (p === '/dashboard/register')
			this.cloud.register();
		else if (p === '/dashboard/install')
			await this.install(formScopes(buf));
		else {
			const m = /^\/dashboard\/installs\/([^/]+)\/(uninstall|redeliver)$/
			    .exec(p);
			if (m === null)
				return sendHtml(res, 404, page('Not found', 'Not found'));
			const id = safeDecode(m[1]);
			if (m[2] === 'uninstall')
				await this.reportFailure(this.cloud.uninstall(id));
			else
				await this.reportFailure(this.cloud.redeliver(id));
		}
		return redirect(res, '/dashboard');
	}

	/* Installs; a refusal (not registered, already installed) is noted. */
	async install(scopes) {
		await this.reportFailure(this.cloud.install(scopes));
	}

	/* Adds a notice for a refused action (4xx); others note themselves. */
	async reportFailure(promise) {
		const r = await promise;
		if (r.status >= 400 && r.status < 500)
			this.cloud.notice('error', 'refused: ' + r.body.error);
	}
}

module.exports = { Dashboard, launchHtml, page, foreign };
