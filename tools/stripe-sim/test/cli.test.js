'use strict';
/*
 * The command line: options, readiness line and ready file, the keys file
 * (made 0600 when missing, never printed), clean shutdown on SIGTERM even
 * with a stalled call.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('../testlib/helpers');

const { tmpdir, spawnSim, startChild } = h;

test('ready file, readiness line, a keys file made 0600 and never printed, SIGTERM exits 0',
    async (t) => {
	const dir = tmpdir(t);
	const keysFile = path.join(dir, 'keys.json');
	const s = await startChild(t, ['--keys-file', keysFile, '--now',
	    String(h.NOW)]);
	assert.match(s.readyText, /^http:\/\/127\.0\.0\.1:\d+\n$/);
	await h.waitFor(() => s.out().includes('\n'));
	assert.equal(s.out(), 'stripe-sim listening on ' + s.url + '\n');
	assert.equal(fs.statSync(keysFile).mode & 0o777, 0o600);
	const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8'));
	assert.match(keys.test[0], /^sk_test_[A-Za-z0-9]{24}$/);
	assert.match(keys.live[0], /^sk_live_[A-Za-z0-9]{24}$/);
	const stripe = h.client(s.url, keys.test[0]);
	const b = await stripe.balance.retrieve();
	assert.equal(b.livemode, false);
	const live = await h.client(s.url, keys.live[0]).balance.retrieve();
	assert.equal(live.livemode, true);
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
	assert.equal(fs.existsSync(s.ready), false, 'ready file left behind');
	const all = s.out() + s.err();
	assert.ok(!all.includes(keys.test[0]) && !all.includes(keys.live[0]),
	    'a key was printed');
	assert.match(s.err(), /wrote a new test and live key to/);
});

test('an existing keys file is read: restricted keys with resources work',
    async (t) => {
	const dir = tmpdir(t);
	const keysFile = path.join(dir, 'keys.json');
	const sk = 'sk_test_' + 'a1'.repeat(12);
	const rk = 'rk_test_' + 'b2'.repeat(12);
	fs.writeFileSync(keysFile, JSON.stringify({ test: [sk, { key: rk,
	    resources: ['balance_transactions'] }], live: [] }));
	const s = await startChild(t, ['--keys-file', keysFile, '--quiet',
	    '--count', '50', '--seed', 'cli']);
	assert.equal((await h.all(h.client(s.url, sk).balanceTransactions.list(
	    { limit: 100 }))).length, 50);
	const e = await h.rejection(h.client(s.url, rk).charges.list());
	assert.equal(e.statusCode, 403);
	assert.equal(s.err(), '', '--quiet');
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
});

test('SIGTERM with a stalled call still exits promptly', async (t) => {
	const dir = tmpdir(t);
	const keysFile = path.join(dir, 'keys.json');
	const s = await startChild(t, ['--keys-file', keysFile, '--quiet']);
	const key = JSON.parse(fs.readFileSync(keysFile, 'utf8')).test[0];
	await h.request(s.url, 'POST', '/_sim/faults',
	    { body: { mode: 'stall', count: 1 } });
	const pending = h.request(s.url, 'GET', '/v1/balance', { key });
	await new Promise((r) => setTimeout(r, 100));
	const started = Date.now();
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
	assert.ok(Date.now() - started < 2000, 'shutdown hung');
	assert.ok((await pending).error, 'the stalled call was answered');
});

test('bad command lines exit 2 naming the option (table)', async (t) => {
	const dir = tmpdir(t);
	const badJson = path.join(dir, 'bad.json');
	fs.writeFileSync(badJson, '{"test": [');
	const badKey = path.join(dir, 'badkey.json');
	fs.writeFileSync(badKey, JSON.stringify({ test: ['sk_live_' +
	    'z'.repeat(30)] }));
	const badMode = path.join(dir, 'badmode.json');
	fs.writeFileSync(badMode, JSON.stringify({ prod: [] }));
	const cases = [
		[['--port', '70000'], /--port/],
		[['--port', 'x'], /--port/],
		[['--bogus'], /bogus/],
		[['--count', '-1'], /--count/],
		[['--count', '999999999'], /--count/],
		[['--currencies', 'usd,USD'], /--currencies/],
		[['--currencies', 'usd,usd'], /--currencies/],
		[['--currencies', 'usd,xyz'], /--currencies/],
		[['--now', 'soon'], /--now/],
		[['--rate', '-3'], /--rate/],
		[['--seed', ''], /--seed/],
		[['--keys-file', badJson], /not valid JSON/],
		[['--keys-file', badKey], /not a test mode key/],
		[['--keys-file', badMode], /unknown mode/],
		[['--keys-file', dir], /cannot read --keys-file: EISDIR/],
	];
	for (const [args, re] of cases) {
		const s = spawnSim(args);
		assert.equal(await s.exited, 2, args.join(' '));
		assert.match(s.err(), re, args.join(' '));
		assert.equal(s.out(), '', 'printed a readiness line');
		assert.ok(!s.err().includes('z'.repeat(30)), 'printed a key');
	}
});

test('--help prints usage and exits 0', async () => {
	const s = spawnSim(['--help']);
	assert.equal(await s.exited, 0);
	assert.match(s.out(), /--keys-file/);
	assert.match(s.out(), /--ready-file/);
});

test('without --keys-file no key works until POST /_sim/keys adds one',
    async (t) => {
	const s = await startChild(t, []);
	assert.match(s.err(), /no --keys-file/);
	const key = 'sk_test_' + 'k'.repeat(24);
	assert.equal((await h.request(s.url, 'GET', '/v1/balance', { key }))
	    .status, 401);
	await h.request(s.url, 'POST', '/_sim/keys', { body: { mode: 'test',
	    key } });
	assert.equal((await h.request(s.url, 'GET', '/v1/balance', { key }))
	    .status, 200);
	s.child.kill('SIGTERM');
	assert.equal(await s.exited, 0);
});
