'use strict';
/*
 * Webhooks (lib/webhooks.js): endpoints, events made by activity, the
 * clock and /_sim/webhooks/send, each delivery signed so that Stripe's
 * official library (stripe.webhooks.constructEvent) accepts it, retried
 * when it fails, and over https with a given CA.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('../testlib/helpers');

const stripe = new h.Stripe('sk_test_unused');

/* The keys of an event, from Stripe's fixture (fixtures3.json). */
const EVENT_KEYS = JSON.parse(fs.readFileSync(path.join(__dirname, '..',
    'fixtures', 'fixtures3.json'), 'utf8')).resources.event;

/*
 * A receiver on 127.0.0.1 (http, or https with opts.tls {key, cert}):
 * every POST kept as {headers, body (raw text)}; answer(i) gives the
 * status of the i-th (default 200).
 */
async function receiver(opts) {
	const o = opts || {};
	const got = [];
	const handler = (req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			got.push({ method: req.method, url: req.url,
			    headers: req.headers,
			    body: Buffer.concat(chunks).toString('utf8') });
			res.writeHead(o.answer ? o.answer(got.length - 1) : 200,
			    { 'Content-Type': 'application/json' });
			res.end('{"received":true}');
		});
	};
	const server = o.tls ? https.createServer(o.tls, handler) :
	    http.createServer(handler);
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const scheme = o.tls ? 'https' : 'http';
	return { got, url: scheme + '://127.0.0.1:' + server.address().port +
	    '/hook', close: () => new Promise((r) => server.close(r)) };
}

/* The events received, each verified with Stripe's own library. */
function verified(got, secret) {
	return got.map((g) => stripe.webhooks.constructEvent(g.body,
	    g.headers['stripe-signature'], secret));
}

let env;
test.before(async () => {
	env = await h.start();
});
test.after(() => env.close());
test.afterEach(() => env.ctl('webhooks/reset'));

test('registering: a loopback URL, a whsec_ secret made or given; bad input is 400',
    async () => {
	const cases = [
		[{}, /url/],
		[{ url: 'ftp://127.0.0.1/x' }, /url/],
		[{ url: 'https://example.com/hook' }, /loopback/],
		[{ url: 'http://user:pw@127.0.0.1/x' }, /credentials/],
		[{ url: 'http://127.0.0.1/x', secret: 'sk_test_abc' }, /secret/],
		[{ url: 'http://127.0.0.1/x', secret: 'whsec_short' }, /secret/],
		[{ url: 'http://127.0.0.1/x', mode: 'prod' }, /mode/],
		[{ url: 'http://127.0.0.1/x', ca_file: '/etc/hostname' }, /https/],
		[{ url: 'https://127.0.0.1/x', ca_file: '/nonexistent' }, /ENOENT/],
		[{ url: 'http://127.0.0.1/x', enabled_events: [] }, /enabled_events/],
		[{ url: 'http://127.0.0.1/x', bogus: 1 }, /unknown field bogus/],
	];
	for (const [body, re] of cases) {
		const r = await env.ctl('webhooks', body);
		assert.equal(r.status, 400, JSON.stringify(body));
		assert.match(r.body.error, re);
	}
	const made = await env.ctl('webhooks', { url: 'http://127.0.0.1:9/x' });
	assert.equal(made.status, 200);
	assert.match(made.body.id, /^we_[A-Za-z0-9]{24}$/);
	assert.match(made.body.secret, /^whsec_[A-Za-z0-9]{32}$/);
	assert.equal(made.body.mode, 'test');
	const given = 'whsec_' + 'g'.repeat(30) + 'WXYZ';
	const second = await env.ctl('webhooks', { url: 'http://localhost:9/y',
	    secret: given, mode: 'live' });
	assert.equal(second.body.secret, given);
	const list = await env.get('/_sim/webhooks', null);
	assert.equal(list.body.endpoints.length, 2);
	assert.equal(list.body.endpoints[1].secret, 'whsec_...WXYZ');
	assert.ok(!list.text.includes(made.body.secret),
	    'the list never shows a secret');
});

test('activity sends signed events: Stripe\'s library verifies every one, shapes are Stripe\'s',
    async () => {
	const rx = await receiver();
	try {
		const ep = (await env.ctl('webhooks', { url: rx.url })).body;
		const before = (await env.stripe.charges.list({ limit: 1 })).data[0];
		const r = await env.ctl('activity', { count: 20 });
		assert.equal(r.status, 200);
		await h.waitFor(() => rx.got.length >= 10 &&
		    env.sim.webhooks.state().deliveries.length === rx.got.length,
		    5000);
		const events = verified(rx.got, ep.secret);
		for (const g of rx.got) {
			assert.equal(g.method, 'POST');
			assert.equal(g.url, '/hook');
			assert.equal(g.headers['content-type'],
			    'application/json; charset=utf-8');
			assert.match(g.headers['user-agent'], /^Stripe\/1\.0/);
			assert.match(g.headers['stripe-signature'],
			    /^t=\d+,v1=[0-9a-f]{64}$/);
			/* Pretty-printed, as Stripe sends them. */
			assert.match(g.body, /^\{\n {2}"api_version"/);
		}
		const types = new Set(events.map((e) => e.type));
		assert.ok(types.has('charge.succeeded'), [...types].join(' '));
		for (const e of events) {
			assert.deepEqual(Object.keys(e), Object.keys(EVENT_KEYS));
			assert.match(e.id, /^evt_[A-Za-z0-9]{24}$/);
			assert.equal(e.object, 'event');
			assert.equal(e.livemode, false);
			assert.equal(e.api_version, h.API_VERSION);
			assert.equal(e.pending_webhooks, 1);
		}
		assert.equal(new Set(events.map((e) => e.id)).size, events.length,
		    'every event has its own id');
		/* Each charge event is about a charge the API serves. */
		const charge = events.find((e) => e.type === 'charge.succeeded');
		const served = await env.stripe.charges.retrieve(
		    charge.data.object.id);
		assert.equal(served.id, charge.data.object.id);
		assert.notEqual(served.id, before.id);
		const n = events.filter((e) => e.type === 'charge.succeeded' ||
		    e.type === 'charge.failed').length;
		assert.equal(n, (await h.all(env.stripe.charges.list({
		    created: r.body.created, limit: 100 }))).length,
		    'one event per charge made');
		/* No endpoint of the live mode: nothing for live activity. */
		const count = rx.got.length;
		await env.ctl('activity', { count: 5, mode: 'live' });
		await new Promise((res) => setTimeout(res, 200));
		assert.equal(rx.got.length, count);
	} finally {
		await rx.close();
	}
});

test('an event Stripe\'s library refuses: another secret, a body changed', async () => {
	const rx = await receiver();
	try {
		const ep = (await env.ctl('webhooks', { url: rx.url })).body;
		const r = await env.ctl('webhooks/send', { type: 'charge.succeeded' });
		assert.equal(r.status, 200);
		const g = rx.got[0];
		assert.throws(() => stripe.webhooks.constructEvent(g.body,
		    g.headers['stripe-signature'], 'whsec_' + 'x'.repeat(32)),
		    /No signatures found/);
		assert.throws(() => stripe.webhooks.constructEvent(g.body + ' ',
		    g.headers['stripe-signature'], ep.secret),
		    /No signatures found/);
		verified([g], ep.secret);
	} finally {
		await rx.close();
	}
});

test('send: one event now about the newest fitting object, or a named one',
    async () => {
	const rx = await receiver();
	try {
		const ep = (await env.ctl('webhooks', { url: rx.url })).body;
		const r = await env.ctl('webhooks/send',
		    { type: 'payout.reconciliation_completed' });
		assert.equal(r.status, 200, JSON.stringify(r.body));
		assert.equal(r.body.deliveries.length, 1);
		assert.equal(r.body.deliveries[0].status, 200);
		const [e] = verified(rx.got, ep.secret);
		assert.equal(e.type, 'payout.reconciliation_completed');
		assert.equal(e.id, r.body.event.id);
		const po = e.data.object;
		assert.match(po.id, /^po_/);
		assert.equal(po.status, 'paid');
		assert.equal(po.automatic, true);
		/* What it settled can be listed, as Stripe's reconciliation
		 * says. */
		const items = await h.all(env.stripe.balanceTransactions.list(
		    { payout: po.id, limit: 100 }));
		assert.ok(items.length >= 2);

		const named = await env.ctl('webhooks/send', { type: 'payout.paid',
		    object: po.id });
		assert.equal(named.body.event.object, po.id);
		const bal = await env.ctl('webhooks/send',
		    { type: 'balance.available' });
		assert.equal(bal.status, 200);
		const [, e2, e3] = verified(rx.got, ep.secret);
		assert.equal(e2.data.object.id, po.id);
		assert.equal(e3.data.object.object, 'balance');
		assert.deepEqual(e3.data.object.available,
		    (await env.stripe.balance.retrieve()).available);

		for (const [body, re] of [
			[{ type: 'customer.created' }, /type must be one of/],
			[{ type: 'payout.paid', object: 'ch_nope' }, /object must be/],
			[{ type: 'payout.paid', mode: 'live' }, /no live-mode endpoint/],
			[{ type: 'balance.available', object: 'x' }, /no object/],
		]) {
			const b = await env.ctl('webhooks/send', body);
			assert.equal(b.status, 400, JSON.stringify(body));
			assert.match(b.body.error, re);
		}
	} finally {
		await rx.close();
	}
});

test('enabled_events: an endpoint gets only the types it asked for', async () => {
	const rx = await receiver();
	try {
		await env.ctl('webhooks', { url: rx.url,
		    enabled_events: ['payout.*'] });
		await env.ctl('webhooks/send', { type: 'charge.succeeded' });
		await env.ctl('webhooks/send', { type: 'payout.paid' });
		assert.equal(rx.got.length, 1);
		assert.equal(JSON.parse(rx.got[0].body).type, 'payout.paid');
	} finally {
		await rx.close();
	}
});

test('a failed delivery is tried again, with a new signature', async () => {
	const rx = await receiver({ answer: (i) => (i === 0 ? 500 : 200) });
	try {
		const ep = (await env.ctl('webhooks', { url: rx.url })).body;
		const r = await env.ctl('webhooks/send', { type: 'charge.succeeded' });
		assert.equal(r.body.deliveries[0].status, 500);
		await h.waitFor(() => rx.got.length === 2, 5000);
		const [a, b] = verified(rx.got, ep.secret);
		assert.equal(a.id, b.id, 'the same event');
		/* The log has an attempt once its answer is in, a moment
		 * after the receiver saw it. */
		await h.waitFor(() => env.sim.webhooks.state().deliveries.length >= 2,
		    5000);
		const log = env.sim.webhooks.state().deliveries;
		assert.deepEqual(log.map((d) => [d.attempt, d.status]),
		    [[1, 500], [2, 200]]);
	} finally {
		await rx.close();
	}
});

test('the clock: a payout that arrives sends payout.paid, then payout.reconciliation_completed',
    async () => {
	const rx = await receiver();
	try {
		const ep = (await env.ctl('webhooks', { url: rx.url })).body;
		/* A payout of new activity is in transit for a day or two:
		 * bring its arrival to now. */
		const world = env.sim.world('test');
		let po = null;
		for (let i = 0; i < 10 && po === null; i++) {
			await env.ctl('activity', { count: 50 });
			po = world.lists.payouts.find((p) => p.status === 'in_transit' &&
			    p.arrival_date > env.sim.clock());
		}
		assert.ok(po !== null, 'activity made a payout in transit');
		await h.waitFor(() => env.sim.webhooks.state().in_flight === 0,
		    5000);
		const before = rx.got.length;
		const about = () => verified(rx.got.slice(before), ep.secret)
		    .filter((e) => e.data.object.id === po.id);
		po.arrival_date = env.sim.clock();
		await h.waitFor(() => about().length >= 2, 5000);
		const events = about();
		/* Stripe does not promise an order; nor do we. */
		assert.deepEqual(events.map((e) => e.type).sort(),
		    ['payout.paid', 'payout.reconciliation_completed']);
		assert.ok(events.every((e) => e.data.object.status === 'paid'));
		/* Once. */
		await new Promise((res) => setTimeout(res, 1500));
		assert.equal(verified(rx.got, ep.secret).filter((e) =>
		    e.data.object.id === po.id && e.type === 'payout.paid').length, 1);
	} finally {
		await rx.close();
	}
});

test('the history generated before an endpoint existed sends nothing', async () => {
	const rx = await receiver();
	try {
		await env.ctl('webhooks', { url: rx.url });
		await new Promise((res) => setTimeout(res, 1500));
		assert.equal(rx.got.length, 0);
	} finally {
		await rx.close();
	}
});

test('an account makes the same data with endpoints or without', async () => {
	const a = await h.start({ seed: 'same', count: 200 });
	const b = await h.start({ seed: 'same', count: 200 });
	const rx = await receiver();
	try {
		await b.ctl('webhooks', { url: rx.url });
		await a.ctl('activity', { count: 40 });
		await b.ctl('activity', { count: 40 });
		const ids = (sim) => sim.world('test').list('balance_transactions')
		    .map((x) => x.id).join(',');
		assert.equal(ids(a.sim), ids(b.sim));
		assert.ok(rx.got.length > 0 || b.sim.webhooks.state().events_sent > 0);
	} finally {
		await rx.close();
		await a.close();
		await b.close();
	}
});

test('https: delivered to a server whose certificate only the given CA vouches for',
    async (t) => {
	let dir, key, cert;
	try {
		dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(),
		    'stripe-sim-wh-'));
		execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt',
		    'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj',
		    '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
		    '-keyout', path.join(dir, 'key.pem'), '-out',
		    path.join(dir, 'cert.pem')], { stdio: 'ignore' });
		key = fs.readFileSync(path.join(dir, 'key.pem'));
		cert = fs.readFileSync(path.join(dir, 'cert.pem'));
	} catch (e) {
		t.skip('openssl cannot make a certificate here');
		return;
	}
	const rx = await receiver({ tls: { key, cert } });
	try {
		/* Without the CA: refused, as an unknown certificate. */
		await env.ctl('webhooks', { url: rx.url });
		const r = await env.ctl('webhooks/send', { type: 'charge.succeeded' });
		assert.equal(r.body.deliveries[0].status, 0);
		assert.match(r.body.deliveries[0].error, /CERT|SELF_SIGNED|certificate/i);
		await env.ctl('webhooks/reset');
		const ep = (await env.ctl('webhooks', { url: rx.url,
		    ca_file: path.join(dir, 'cert.pem') })).body;
		assert.equal(ep.ca_file, true);
		const ok = await env.ctl('webhooks/send', { type: 'charge.succeeded' });
		assert.equal(ok.body.deliveries[0].status, 200);
		verified([rx.got[rx.got.length - 1]], ep.secret);
	} finally {
		await rx.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('our signature is the HMAC Stripe documents', () => {
	const { signature } = require('../lib/webhooks');
	const secret = 'whsec_' + crypto.randomBytes(16).toString('hex');
	const body = '{"id":"evt_1"}';
	const header = signature(secret, 1700000000, body);
	assert.equal(header, stripe.webhooks.generateTestHeaderString({
	    payload: body, secret, timestamp: 1700000000 }));
});
