'use strict';
/*
 * The command line: options, readiness line and ready file, secrets kept
 * out of output, clean shutdown on SIGTERM (even with a stalled call).
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('../testlib/helpers');

const { tmpdir, spawnSim, startChild } = h;

test('ready file, readiness line, SIGTERM exits 0', async (t) => {
	const s = await startChild(t, ['--quiet']);
	assert.match(s.readyText, /^http:\/\/127\.0\.0\.1:\d+\n$/);
	await h.waitFor(() => s.out().includes('\n'));
	assert.equal(s.out(), 'cloud-sim listening on ' + s.url + '\n');
	const r = await h.request(s.url, 'GET', '/_sim/health');
	assert.equal(r.status, 200);
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
	assert.equal(fs.existsSync(s.ready), false, 'ready file left behind');
});

test('full flow as a child: secret and key never printed', async (t) => {
	const app = await h.startFakeApp();
	t.after(app.stop);
	const dir = tmpdir(t);
	const sf = path.join(dir, 'secret');
	fs.writeFileSync(sf, h.SECRET + '\n');
	const s = await startChild(t, ['--app-base', app.url,
	    '--callback-secret-file', sf, '--allow-http', '--register']);
	const inst = await h.request(s.url, 'POST', '/_sim/install',
	    { body: {} });
	assert.equal(inst.status, 200, inst.text);
	assert.equal(inst.body.api_key, undefined, 'key exposed by default');
	const key = app.of('callback')[0].body.api_key;
	await h.request(s.url, 'GET', '/data/ledgers?instance_id=' +
	    inst.body.instance_id, { token: key });
	await h.request(s.url, 'POST', '/_sim/launch',
	    { body: { installed_app_id: inst.body.installed_app_id } });
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
	const all = s.out() + s.err();
	assert.ok(all.includes(inst.body.api_key_prefix), 'prefix not logged');
	assert.ok(!all.includes(key), 'full key printed');
	assert.ok(!all.includes(h.SECRET), 'callback secret printed');
});

test('CLOUD_SIM_EXPOSE_KEYS=1 returns the key and says so', async (t) => {
	const app = await h.startFakeApp();
	t.after(app.stop);
	const s = await startChild(t, ['--app-base', app.url, '--allow-http',
	    '--register'], { CLOUD_SIM_CALLBACK_SECRET: h.SECRET,
	    CLOUD_SIM_EXPOSE_KEYS: '1' });
	const inst = await h.request(s.url, 'POST', '/_sim/install',
	    { body: {} });
	assert.equal(inst.status, 200, inst.text);
	assert.equal(inst.body.api_key, app.of('callback')[0].body.api_key);
	assert.match(s.err(), /tests only/);
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
});

test('SIGTERM with a stalled gateway call still exits promptly',
    async (t) => {
	const app = await h.startFakeApp();
	t.after(app.stop);
	const s = await startChild(t, ['--app-base', app.url, '--allow-http',
	    '--register', '--quiet'], { CLOUD_SIM_CALLBACK_SECRET: h.SECRET,
	    CLOUD_SIM_EXPOSE_KEYS: '1' });
	const inst = await h.request(s.url, 'POST', '/_sim/install',
	    { body: {} });
	await h.request(s.url, 'POST', '/_sim/faults',
	    { body: { mode: 'stall', count: 1 } });
	const pending = h.request(s.url, 'GET', '/data/ledgers?instance_id=' +
	    inst.body.instance_id, { token: inst.body.api_key });
	await new Promise((r) => setTimeout(r, 100));
	const started = Date.now();
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
	assert.ok(Date.now() - started < 2000, 'shutdown hung');
	const r = await pending;
	assert.ok(r.error, 'stalled call was answered');
});

test('bad command lines exit 2 naming the option (table)', async (t) => {
	const dir = tmpdir(t);
	const empty = path.join(dir, 'empty');
	fs.writeFileSync(empty, '\n');
	const cases = [
		[['--port', '70000'], /--port/],
		[['--port', 'x'], /--port/],
		[['--bogus'], /bogus/],
		[['--app-base', 'ftp://x'], /--app-base/],
		[['--app-base', 'not a url'], /--app-base/],
		[['--callback-secret-file', path.join(dir, 'none')],
		    /--callback-secret-file: ENOENT/],
		[['--callback-secret-file', empty], /--callback-secret-file is empty/],
		[['--ca-file', path.join(dir, 'none')], /--ca-file/],
		[['--callback-timeout-ms', '0'], /--callback-timeout-ms/],
		[['--instance-id', 'bad'], /--instance-id/],
	];
	for (const [args, re] of cases) {
		const s = spawnSim(args);
		assert.equal(await s.exited, 2, args.join(' '));
		assert.match(s.err(), re, args.join(' '));
		assert.equal(s.out(), '', 'printed a readiness line');
	}
});

test('--register without a secret exits 1 and prints no readiness line',
    async () => {
	const s = spawnSim(['--register', '--app-base', 'https://127.0.0.1:1']);
	assert.equal(await s.exited, 1);
	assert.match(s.err(), /callback-secret-file/);
	assert.equal(s.out(), '');
});

test('--help prints usage and exits 0', async () => {
	const s = spawnSim(['--help']);
	assert.equal(await s.exited, 0);
	assert.match(s.out(), /--ready-file/);
});

test('--state-file: installs, keys and Core survive a restart; the file is 0600 and written atomically',
    async (t) => {
	const dir = tmpdir(t);
	const state = path.join(dir, 'state.json');
	const app = await h.startFakeApp();
	t.after(() => app.stop());
	const args = ['--quiet', '--allow-http', '--state-file', state,
	    '--manifest', h.MANIFEST, '--app-base', app.url,
	    '--instance-id', 'inst_fixed', '--register'];
	const env = { CLOUD_SIM_CALLBACK_SECRET: h.SECRET,
	    CLOUD_SIM_EXPOSE_KEYS: '1' };
	const a = await startChild(t, args, env);
	const post = (url, p, body, token) => fetch(url + p, { method: 'POST',
	    headers: Object.assign({ 'Content-Type': 'application/json' },
	    token ? { Authorization: 'Bearer ' + token } : {}),
	    body: JSON.stringify(body) }).then(async (r) => ({ status: r.status,
	    body: await r.json() }));
	const i = await post(a.url, '/_sim/install', {});
	assert.equal(i.status, 200);
	const key = i.body.api_key;
	const tx = await post(a.url, '/proxy/transactions?instance_id=inst_fixed',
	    { precise_amount: 5, precision: 100, currency: 'USD',
	    reference: 'keep', source: '@a', destination: '@b',
	    allow_overdraft: true, description: 'd', skip_queue: true }, key);
	assert.equal(tx.status, 201);
	await h.waitFor(() => fs.existsSync(state) &&
	    fs.readFileSync(state, 'utf8').includes('"keep"'), 3000);
	assert.equal(fs.statSync(state).mode & 0o777, 0o600);
	a.child.kill('SIGTERM');
	await a.exited;
	const b = await startChild(t, args, env);
	const list = await fetch(b.url + '/_sim/installs').then((r) => r.json());
	assert.equal(list.data[0].installed_app_id, i.body.installed_app_id);
	assert.equal(list.data[0].status, 'installed');
	const d = await fetch(b.url + '/data/transactions?instance_id=' +
	    'inst_fixed&reference_eq=keep', { headers:
	    { Authorization: 'Bearer ' + key } });
	assert.equal(d.status, 200, 'the key still works');
	assert.equal((await d.json()).total, 1);
	/* Stop it before looking for temporary files (it may be writing
	 * one now) and before the hooks remove its directory. */
	b.child.kill('SIGTERM');
	assert.equal(await b.exited, 0);
	assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
	    []);
});
