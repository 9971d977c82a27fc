'use strict';
/*
 * The app's manifest: read from the repo's manifest.json, checked, and
 * resolved by substituting the placeholders https://YOUR-HOST (the app's
 * origin) and <callback_secret>.  The resolved URLs hold the secret, so
 * anything shown to people goes through maskSecret() first.
 */

const fs = require('node:fs');

const HOST_PLACEHOLDER = 'https://YOUR-HOST';
const SECRET_PLACEHOLDER = '<callback_secret>';
const SCOPES = ['data:read', 'data:write', 'alerts:read', 'alerts:write'];
const REQUIRED = ['name', 'description', 'callback_url', 'portal_url',
    'permissions'];

/*
 * Reads and checks a manifest file.  Returns {ok, manifest} or
 * {ok: false, message}.
 */
function loadManifest(path) {
	let m;
	try {
		m = JSON.parse(fs.readFileSync(path, 'utf8'));
	} catch (e) {
		return { ok: false, message: 'cannot read manifest ' + path +
		    ': ' + (e.code || 'invalid JSON') };
	}
	if (m === null || typeof m !== 'object' || Array.isArray(m))
		return { ok: false, message: 'manifest must be a JSON object' };
	for (const k of REQUIRED)
		if (m[k] === undefined || m[k] === '')
			return { ok: false, message: 'manifest lacks ' + k };
	if (!Array.isArray(m.permissions) ||
	    !m.permissions.every((p) => SCOPES.includes(p)))
		return { ok: false, message: 'manifest permissions must be ' +
		    'a list drawn from ' + SCOPES.join(', ') };
	return { ok: true, manifest: m };
}

/* Returns s with both placeholders replaced. */
function substitute(s, appBase, secret) {
	if (typeof s !== 'string')
		return s;
	return s.split(HOST_PLACEHOLDER).join(appBase)
	    .split(SECRET_PLACEHOLDER).join(secret);
}

/*
 * Checks a resolved URL: https, or http to a loopback host when allowHttp.
 * Returns null or a message naming the field.
 */
function checkUrl(field, value, allowHttp) {
	let u;
	try {
		u = new URL(value);
	} catch (e) {
		return field + ' is not a valid URL';
	}
	if (u.protocol === 'https:')
		return null;
	const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
	if (u.protocol === 'http:' && allowHttp && loopback)
		return null;
	return field + ' must be https (http only to loopback with --allow-http)';
}

/*
 * Resolves a manifest for registration.  opts: appBase, callbackSecret,
 * allowHttp.  Returns {ok, manifest} (URLs hold the secret) or
 * {ok: false, message}.
 */
function resolveManifest(m, opts) {
	const base = (opts.appBase || '').replace(/\/+$/, '');
	const text = JSON.stringify(m);
	if (text.includes(HOST_PLACEHOLDER) && base === '')
		return { ok: false, message: 'manifest uses https://YOUR-HOST: ' +
		    'give --app-base' };
	if (text.includes(SECRET_PLACEHOLDER) && !opts.callbackSecret)
		return { ok: false, message: 'manifest uses <callback_secret>: ' +
		    'give --callback-secret-file or CLOUD_SIM_CALLBACK_SECRET' };
	const r = Object.assign({}, m);
	for (const k of ['logo_url', 'callback_url', 'portal_url'])
		r[k] = substitute(m[k], base, opts.callbackSecret || '');
	for (const k of ['callback_url', 'portal_url']) {
		const msg = checkUrl(k, r[k], opts.allowHttp);
		if (msg !== null)
			return { ok: false, message: msg };
	}
	return { ok: true, manifest: r };
}

/* Returns s with every occurrence of secret replaced by the placeholder. */
function maskSecret(s, secret) {
	if (typeof s !== 'string' || !secret)
		return s;
	return s.split(secret).join(SECRET_PLACEHOLDER);
}

/* Returns a copy of a resolved manifest that is safe to show. */
function publicManifest(m, secret) {
	const r = Object.assign({}, m);
	for (const k of ['logo_url', 'callback_url', 'portal_url'])
		r[k] = maskSecret(m[k], secret);
	return r;
}

module.exports = {
	SCOPES, HOST_PLACEHOLDER, SECRET_PLACEHOLDER, loadManifest,
	resolveManifest, maskSecret, publicManifest,
};
