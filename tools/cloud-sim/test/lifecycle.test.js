'use strict';
/*
 * Registration, install, uninstall, redelivery and launch against a fake
 * app, through the control API and the dashboard.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('../testlib/helpers');

/* A gateway read that needs only a valid key and data:read. */
function probe(env, i) {
	return env.call('GET', i.q('/data/ledgers'), { token: i.key });
}

test('register shows the manifest with the secret masked', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const r = await env.get('/_sim/registration');
	assert.equal(r.status, 200);
	assert.equal(r.body.manifest.name, 'Stripe Sync');
	assert.deepEqual(r.body.manifest.permissions,
	    ['data:read', 'data:write', 'alerts:write']);
	assert.equal(r.body.manifest.callback_url,
	    env.app.url + '/api/callback/<callback_secret>');
	assert.ok(!r.text.includes(h.SECRET), 'secret leaked in registration');
	const d = await env.get('/dashboard');
	assert.ok(d.text.includes('Stripe Sync'));
	assert.ok(!d.text.includes(h.SECRET), 'secret leaked in dashboard');
});

test('install before register is refused', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	await env.ctl('reset');
	const r = await env.ctl('install', { scopes: ['data:read'] });
	assert.equal(r.status, 409);
	assert.equal(env.app.calls.length, 0);
});

test('install of a scope the manifest does not request is refused',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const r = await env.ctl('install', { scopes: ['alerts:read'] });
	assert.equal(r.status, 400);
	assert.match(r.body.error, /alerts:read/);
	assert.equal(env.app.calls.length, 0);
});

test('install success: app gets the documented body, key works',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const r = await env.ctl('install', { scopes: ['data:read'] });
	assert.equal(r.status, 200);
	assert.equal(r.body.status, 'installed');
	assert.equal(r.body.http_status, 200);
	const calls = env.app.of('callback');
	assert.equal(calls.length, 1);
	const ev = calls[0].body;
	assert.match(calls[0].headers['content-type'], /^application\/json/);
	assert.deepEqual(Object.keys(ev).sort(), ['api_key', 'api_key_prefix',
	    'app_id', 'granted_permissions', 'idempotency_key',
	    'installed_app_id', 'instance_id']);
	assert.match(ev.installed_app_id, /^instapp_/);
	assert.match(ev.app_id, /^app_/);
	assert.match(ev.instance_id, /^inst_/);
	assert.match(ev.api_key, /^blnk_[A-Za-z0-9_-]{40}$/);
	assert.equal(ev.api_key_prefix, ev.api_key.slice(0, 8));
	assert.deepEqual(ev.granted_permissions, ['data:read']);
	assert.equal(ev.idempotency_key, 'install:' + ev.installed_app_id);
	assert.equal(r.body.installed_app_id, ev.installed_app_id);
	assert.equal(r.body.api_key_prefix, ev.api_key_prefix);
	assert.equal(r.body.api_key, ev.api_key, 'exposeKeys returns the key');
	const i = { key: ev.api_key, q: (p) => p + '?instance_id=' +
	    ev.instance_id };
	assert.equal((await probe(env, i)).status, 200);
});

test('install answer without expose-keys carries no api_key', async (t) => {
	const env = await h.setup({ exposeKeys: false });
	t.after(env.close);
	const r = await env.ctl('install', {});
	assert.equal(r.status, 200);
	assert.equal(r.body.api_key, undefined);
	const key = env.app.of('callback')[0].body.api_key;
	const all = (await env.get('/_sim/installs')).text +
	    (await env.get('/dashboard')).text + env.logs.join('\n');
	assert.ok(!all.includes(key), 'full key leaked');
	assert.ok(all.includes(r.body.api_key_prefix));
});

test('install where the app answers 500 fails and revokes the key',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	env.app.behave.callback = { status: 500 };
	const r = await env.ctl('install', {});
	assert.equal(r.status, 502);
	assert.equal(r.body.status, 'failed');
	assert.equal(r.body.http_status, 500);
	assert.match(r.body.error, /500/);
	const i = { key: r.body.api_key, q: (p) => p + '?instance_id=' +
	    r.body.instance_id };
	const g = await probe(env, i);
	assert.equal(g.status, 401);
	assert.equal(g.body.error_detail.code, 'AUTH_INVALID_API_KEY');
	const list = (await env.get('/_sim/installs')).body.data;
	assert.equal(list[0].status, 'failed');
	assert.equal(list[0].key_active, false);
	const d = await env.get('/dashboard');
	assert.match(d.text, /install event failed: app answered HTTP 500/);
});

test('install where the app is too slow fails and revokes the key',
    async (t) => {
	const env = await h.setup({ callbackTimeoutMs: 200 });
	t.after(env.close);
	env.app.behave.callback = { delayMs: 600 };
	const started = Date.now();
	const r = await env.ctl('install', {});
	assert.ok(Date.now() - started < 550, 'did not wait for the app');
	assert.equal(r.status, 502);
	assert.equal(r.body.status, 'failed');
	assert.match(r.body.error, /no answer within 200 ms/);
	const i = { key: r.body.api_key, q: (p) => p + '?instance_id=' +
	    r.body.instance_id };
	assert.equal((await probe(env, i)).status, 401);
});

test('install where the app is unreachable fails', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	await env.app.stop();
	const r = await env.ctl('install', {});
	assert.equal(r.status, 502);
	assert.equal(r.body.status, 'failed');
	assert.match(r.body.error, /connection failed: ECONNREFUSED/);
	assert.ok(!r.text.includes(h.SECRET));
});

test('a failed install frees the instance for a new install', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	env.app.behave.callback = { status: 503 };
	assert.equal((await env.ctl('install', {})).status, 502);
	env.app.behave.callback = {};
	assert.equal((await env.ctl('install', {})).status, 200);
});

test('second install on the same instance is refused', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	await h.installed(env);
	const r = await env.ctl('install', {});
	assert.equal(r.status, 409);
	assert.equal(env.app.of('callback').length, 1);
});

test('install on another instance is allowed', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const a = await h.installed(env);
	const r = await env.ctl('install', { instance_id: 'inst_other' });
	assert.equal(r.status, 200);
	assert.equal(r.body.instance_id, 'inst_other');
	assert.notEqual(r.body.api_key, a.key);
});

test('uninstall with 2xx completes and revokes the key', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	const r = await env.ctl('uninstall', { installed_app_id: i.id });
	assert.equal(r.status, 200);
	assert.equal(r.body.status, 'uninstalled');
	const ev = env.app.of('callback')[1].body;
	assert.deepEqual(Object.keys(ev).sort(), ['app_id', 'idempotency_key',
	    'installed_app_id', 'instance_id', 'uninstalled_at']);
	assert.equal(ev.idempotency_key, 'uninstall:' + i.id);
	assert.equal(ev.instance_id, i.inst);
	assert.match(ev.uninstalled_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	const g = await probe(env, i);
	assert.equal(g.status, 401);
	assert.match(g.body.error, /revoked/);
});

test('uninstall with 500 keeps the install and the key', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	env.app.behave.callback = { status: 500 };
	const r = await env.ctl('uninstall', { installed_app_id: i.id });
	assert.equal(r.status, 502);
	assert.equal(r.body.status, 'installed');
	assert.match(r.body.error, /uninstall event failed.*500/);
	assert.equal((await probe(env, i)).status, 200);
	const d = await env.get('/dashboard');
	assert.match(d.text, /the app stays installed/);
});

test('uninstall of an unknown install is 404', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const r = await env.ctl('uninstall', { installed_app_id: 'instapp_x' });
	assert.equal(r.status, 404);
});

test('uninstall twice is refused the second time', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	await env.ctl('uninstall', { installed_app_id: i.id });
	const r = await env.ctl('uninstall', { installed_app_id: i.id });
	assert.equal(r.status, 409);
	assert.equal(env.app.of('callback').length, 2);
});

test('redelivery sends the same event with the same idempotency_key',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	const r = await env.ctl('redeliver', { installed_app_id: i.id });
	assert.equal(r.status, 200);
	assert.equal(r.body.idempotency_key, 'install:' + i.id);
	const [a, b] = env.app.of('callback');
	assert.deepEqual(b.body, a.body);
	assert.equal(r.body.status, 'installed');
});

test('redelivery of a failed uninstall completes it on 2xx', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	env.app.behave.callback = { status: 500 };
	await env.ctl('uninstall', { installed_app_id: i.id });
	env.app.behave.callback = {};
	const r = await env.ctl('redeliver', { installed_app_id: i.id });
	assert.equal(r.body.event, 'uninstall');
	assert.equal(r.body.status, 'uninstalled');
	const evs = env.app.of('callback');
	assert.deepEqual(evs[2].body, evs[1].body);
	assert.equal((await probe(env, i)).status, 401);
});

test('launch returns portal_url and sends the documented body',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	const r = await env.ctl('launch', { installed_app_id: i.id });
	assert.equal(r.status, 200);
	assert.match(r.body.portal_url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
	assert.equal(r.body.http_status, 200);
	assert.deepEqual(r.body.body, { portal_url: r.body.portal_url });
	const call = env.app.of('portal')[0];
	assert.deepEqual(call.body, { installed_app_id: i.id,
	    app_id: call.body.app_id, instance_id: i.inst });
	assert.match(call.body.app_id, /^app_/);
});

test('dashboard launch page frames portal_url and offers Open',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	const r = await env.get('/dashboard/launch/' + i.id);
	assert.equal(r.status, 200);
	const frame = /<iframe[^>]*src="([^"]+)"/.exec(r.text);
	assert.ok(frame, 'no iframe');
	const open = /<a id="open" href="([^"]+)"[^>]*target="_blank"/
	    .exec(r.text);
	assert.ok(open, 'no Open link');
	assert.equal(frame[1], open[1]);
	assert.match(frame[1], /\/\?token=tok\d+$/);
	assert.match(r.headers['content-security-policy'], /frame-src http: https:/);
});

test('launch with an answer lacking portal_url fails clearly',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	for (const body of [{ url: 'x' }, { portal_url: 'javascript:alert(1)' },
	    'not json']) {
		env.app.behave.portal = { body };
		const r = await env.ctl('launch', { installed_app_id: i.id });
		assert.equal(r.status, 502);
		assert.equal(r.body.portal_url, null);
		assert.match(r.body.error, /no valid portal_url/);
	}
	const page = await env.get('/dashboard/launch/' + i.id);
	assert.equal(page.status, 502);
	assert.match(page.text, /Launch failed/);
	assert.ok(!page.text.includes('<iframe'));
});

test('launch when the app answers 403 shows the error', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	env.app.behave.portal = { status: 403, body: { error: 'nope' } };
	const r = await env.ctl('launch', { installed_app_id: i.id });
	assert.equal(r.status, 502);
	assert.equal(r.body.http_status, 403);
	assert.deepEqual(r.body.body, { error: 'nope' });
});

test('launch of an uninstalled app is refused without calling it',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const i = await h.installed(env);
	await env.ctl('uninstall', { installed_app_id: i.id });
	const r = await env.ctl('launch', { installed_app_id: i.id });
	assert.equal(r.status, 409);
	assert.equal(env.app.of('portal').length, 0);
});

test('dashboard forms install, redeliver and uninstall', async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
	let r = await env.call('POST', '/dashboard/install',
	    { body: 'scope=data%3Aread&scope=alerts%3Awrite', headers: form });
	assert.equal(r.status, 303);
	const ev = env.app.of('callback')[0].body;
	assert.deepEqual(ev.granted_permissions, ['data:read', 'alerts:write']);
	const id = ev.installed_app_id;
	r = await env.call('POST', '/dashboard/installs/' + id + '/redeliver',
	    { body: '', headers: form });
	assert.equal(r.status, 303);
	r = await env.call('POST', '/dashboard/installs/' + id + '/uninstall',
	    { body: '', headers: form });
	assert.equal(r.status, 303);
	assert.deepEqual(env.app.of('callback').map((c) =>
	    c.body.idempotency_key), ['install:' + id, 'install:' + id,
	    'uninstall:' + id]);
	const d = await env.get('/dashboard');
	assert.match(d.text, /class="st uninstalled"/);
});

test('dashboard and control POSTs from another origin are refused',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const evil = { Origin: 'https://evil.example' };
	let r = await env.call('POST', '/dashboard/install',
	    { body: 'scope=data%3Aread', headers: Object.assign({
	    'Content-Type': 'application/x-www-form-urlencoded' }, evil) });
	assert.equal(r.status, 403);
	r = await env.call('POST', '/_sim/install', { body: {}, headers: evil });
	assert.equal(r.status, 403);
	r = await env.call('POST', '/_sim/reset', { body: '{}',
	    headers: { 'Content-Type': 'text/plain' } });
	assert.equal(r.status, 403);
	assert.equal(env.app.calls.length, 0);
});

test('register fails naming the missing option', async () => {
	const { createSimulator } = require('../lib/server');
	const sim = createSimulator({ manifestPath: h.MANIFEST,
	    appBase: 'https://127.0.0.1:8443', log: () => {} });
	const r = sim.cloud.register();
	assert.equal(r.status, 400);
	assert.match(r.body.error, /--callback-secret-file/);
	const sim2 = createSimulator({ manifestPath: h.MANIFEST,
	    callbackSecret: 'x'.repeat(40), log: () => {} });
	assert.match(sim2.cloud.register().body.error, /--app-base/);
	const sim3 = createSimulator({ manifestPath: h.MANIFEST,
	    appBase: 'http://127.0.0.1:1', callbackSecret: 'x'.repeat(40),
	    log: () => {} });
	assert.match(sim3.cloud.register().body.error, /must be https/);
	const sim4 = createSimulator({ manifestPath: '/nonexistent.json',
	    log: () => {} });
	assert.match(sim4.cloud.register().body.error, /ENOENT/);
});

test('dashboard: Referrer-Policy same-origin, so a browser posts its real Origin; Origin null and cross-site Sec-Fetch-Site are refused',
    async (t) => {
	const env = await h.setup();
	t.after(env.close);
	const d = await env.get('/dashboard');
	assert.equal(d.headers['referrer-policy'], 'same-origin');
	const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
	for (const bad of [{ Origin: 'null' },
	    { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' },
	    { Origin: env.base, 'Sec-Fetch-Site': 'cross-site' }]) {
		const r = await env.call('POST', '/dashboard/install',
		    { body: 'scope=data%3Aread', headers: Object.assign({}, form,
		    bad) });
		assert.equal(r.status, 403, JSON.stringify(bad));
	}
	assert.equal(env.app.calls.length, 0);
	const ok = await env.call('POST', '/dashboard/install',
	    { body: 'scope=data%3Aread', headers: Object.assign({
	    Origin: env.base, 'Sec-Fetch-Site': 'same-origin' }, form) });
	assert.equal(ok.status, 303);
	assert.equal(env.app.of('callback').length, 1);
});
