// bench/sync-floor.js: the floor bench/sync measures a sync against.
//
// What would the same calls cost if the runner cost nothing?  A fresh
// Stripe simulator and a fresh Cloud simulator, started exactly as
// tools/stack starts them (the same generator arguments, a state file,
// log lines to a file), are sent the calls the sync made, one after the
// other over one kept-alive connection each, by a client that does
// nothing else:
//
//   - Stripe: as many pages of /v1/balance_transactions?limit=100&
//     expand[]=data.source as the sync asked for, the same number of
//     charge and customer retrievals (of charges the listed refunds and
//     disputes point at, and of their customers), of customer list pages
//     and of /v1/balance;
//   - Cloud: the sync's own bulk posts, body for body (read back from the
//     sync's Core: its QUEUED rows, grouped by bulk batch, in order, with
//     their @indicators), then the batched read-back (per batch of the app,
//     meta_data.stripe_sync.batch_eq=B & status_ne=QUEUED, 100 a page,
//     again after 100 ms while rows are missing) and /data/balances.
//
// Nothing else is done between calls (responses are read as text, and
// parsed only where the next call needs them).  The wall time of that
// replay is the floor; the simulators' CPU time over it is reported too.
//
//   node bench/sync-floor.js --top REPO --dir WORKDIR --sim MAIN_SIM_URL
//       --instance INST --stripe-args "ARGS" --stripe-requests FILE
//       --audit FILE [--clk-tck N]
//
// --stripe-requests: the Stripe simulator's /_sim/requests over the sync;
// --audit: a JSON array of the Cloud audit entries of the sync.
// Prints one JSON line.  Its simulators are recorded in WORKDIR/pids/ and
// stopped before it exits.  No dependencies.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	if (i >= 0 && i + 1 < args.length)
		return args[i + 1];
	if (dflt === undefined)
		throw new Error('missing ' + name);
	return dflt;
};
const top = opt('--top');
const dir = opt('--dir');
const mainSim = opt('--sim');
const mainInstance = opt('--instance');
const stripeArgs = opt('--stripe-args').trim().split(/\s+/);
const stripeReq = JSON.parse(fs.readFileSync(opt('--stripe-requests'),
    'utf8'));
const audit = JSON.parse(fs.readFileSync(opt('--audit'), 'utf8'));
const clkTck = Number(opt('--clk-tck', '100'));

const children = [];

function cpuSeconds(pid) {
	try {
		const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
		const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
		return (Number(f[11]) + Number(f[12])) / clkTck;
	} catch (e) {
		return NaN;
	}
}

function spawnSim(name, script, argv, env) {
	const log = fs.openSync(path.join(dir, 'logs', name + '.log'), 'a');
	const c = cp.spawn(process.execPath, [script, ...argv], {
		stdio: ['ignore', log, log],
		env: Object.assign({}, process.env, env),
	});
	fs.closeSync(log);
	fs.writeFileSync(path.join(dir, 'pids', name + '.pid'), c.pid + '\n');
	children.push(c);
	return c;
}

async function waitFile(file, child, what) {
	for (let i = 0; i < 2000; i++) {
		if (child.exitCode !== null)
			throw new Error(what + ' exited: see ' + dir + '/logs/');
		try {
			const t = fs.readFileSync(file, 'utf8').trim();
			if (t !== '')
				return t;
		} catch (e) { /* not yet */ }
		await new Promise((r) => setTimeout(r, 10));
	}
	throw new Error(what + ' did not start in 20 s');
}

async function stopAll() {
	for (const c of children)
		if (c.exitCode === null)
			c.kill('SIGTERM');
	for (const c of children) {
		for (let i = 0; i < 500 && c.exitCode === null; i++)
			await new Promise((r) => setTimeout(r, 10));
		if (c.exitCode === null)
			c.kill('SIGKILL');
	}
}

async function call(method, url, headers, body) {
	const r = await fetch(url, { method, headers, body });
	const text = await r.text();
	return { status: r.status, text };
}

async function control(base, p, body) {
	const r = await call(body === undefined ? 'GET' : 'POST', base + p,
	    { 'content-type': 'application/json' },
	    body === undefined ? undefined : JSON.stringify(body));
	if (r.status !== 200)
		throw new Error(p + ': HTTP ' + r.status + ' ' + r.text.slice(0, 200));
	return JSON.parse(r.text);
}

// The sync's bulk posts, rebuilt from its Core: [{bulk, items: [body]}],
// and its batches for the read-back: [{batch, postings}].
function bulkBodies(core) {
	const ind = new Map(core.balances.map((b) => [b.balance_id,
	    b.indicator || '@floor-' + b.balance_id]));
	const groups = new Map();
	for (const t of core.transactions) {
		if (t.status !== 'QUEUED' || !t.parent_transaction ||
		    !t.parent_transaction.startsWith('bulk_'))
			continue;
		let g = groups.get(t.parent_transaction);
		if (g === undefined) {
			g = { bulk: t.parent_transaction, first: t.created_at,
			    items: [] };
			groups.set(t.parent_transaction, g);
		}
		if (t.created_at < g.first)
			g.first = t.created_at;
		const meta = Object.assign({}, t.meta_data);
		const seq = meta.sequence;
		delete meta.sequence;
		delete meta.QUEUED_PARENT_TRANSACTION;
		delete meta.allow_overdraft;
		const body = {
			precise_amount: t.precise_amount, precision: t.precision,
			currency: t.currency, source: ind.get(t.source) || t.source,
			destination: ind.get(t.destination) || t.destination,
			description: t.description, reference: t.reference,
		};
		if (t.allow_overdraft)
			body.allow_overdraft = true;
		if (t.effective_date)
			body.effective_date = t.effective_date;
		body.meta_data = meta;
		g.items.push({ seq, body });
	}
	const out = [...groups.values()].sort((a, b) =>
	    a.first < b.first ? -1 : a.first > b.first ? 1 : 0);
	const batches = new Map();
	for (const g of out) {
		g.items.sort((a, b) => a.seq - b.seq);
		g.items = g.items.map((x) => x.body);
		for (const b of g.items) {
			const id = b.meta_data.stripe_sync && b.meta_data.stripe_sync.batch;
			if (id === undefined)
				continue;
			if (!batches.has(id))
				batches.set(id, 0);
			batches.set(id, batches.get(id) + 1);
		}
	}
	return { groups: out, batches: [...batches].map(([batch, postings]) =>
	    ({ batch, postings })) };
}

async function main() {
	fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
	fs.mkdirSync(path.join(dir, 'pids'), { recursive: true });

	// The app's callback, as far as the Cloud simulator needs one: any
	// event is taken (this client is the app here).
	const stub = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{}');
		});
	});
	await new Promise((r) => stub.listen(0, '127.0.0.1', r));
	const stubBase = 'http://127.0.0.1:' + stub.address().port;

	const stripeSim = spawnSim('stripe-sim',
	    path.join(top, 'tools/stripe-sim/stripe-sim.js'),
	    ['--port', '0', '--keys-file', path.join(dir, 'stripe-keys.json'),
	    '--ready-file', path.join(dir, 'stripe.ready'), ...stripeArgs,
	    '--rate', '0'], {});
	const cloudSim = spawnSim('cloud-sim',
	    path.join(top, 'tools/cloud-sim/cloud-sim.js'),
	    ['--port', '0', '--manifest', path.join(top, 'manifest.json'),
	    '--app-base', stubBase, '--allow-http',
	    '--ready-file', path.join(dir, 'cloud.ready'),
	    '--state-file', path.join(dir, 'cloud-sim-state.json')],
	    { CLOUD_SIM_CALLBACK_SECRET: 'bench-floor-callback-secret-0123456789',
	    CLOUD_SIM_EXPOSE_KEYS: '1' });
	const stripe = await waitFile(path.join(dir, 'stripe.ready'), stripeSim,
	    'the floor\'s Stripe simulator');
	const sim = await waitFile(path.join(dir, 'cloud.ready'), cloudSim,
	    'the floor\'s Cloud simulator');

	await control(sim, '/_sim/register', {});
	const inst = await control(sim, '/_sim/install', {});
	if (inst.status !== 'installed' || !inst.api_key)
		throw new Error('the floor\'s install failed: ' +
		    JSON.stringify(inst).slice(0, 200));
	stub.close();
	const skey = JSON.parse(fs.readFileSync(path.join(dir,
	    'stripe-keys.json'), 'utf8')).test[0];
	const sHead = { authorization: 'Bearer ' + skey,
	    'stripe-version': '2022-11-15' };
	const cHead = { authorization: 'Bearer ' + inst.api_key,
	    'content-type': 'application/json' };
	const iq = 'instance_id=' + encodeURIComponent(inst.instance_id);

	const core = await control(mainSim, '/_sim/core?instance_id=' +
	    encodeURIComponent(mainInstance));
	const { groups, batches } = bulkBodies(core);

	// What the sync asked for.
	const want = {};
	for (const [p, m] of Object.entries(stripeReq.paths || {}))
		want[p] = (m.test || 0) + (m.live || 0) + (m.none || 0);
	const cloudWant = {};
	for (const a of audit) {
		const k = a.method + ' ' + a.path.split('?')[0];
		cloudWant[k] = (cloudWant[k] || 0) + 1;
	}

	const done = { stripe: {}, cloud: {} };
	const skipped = [];
	const count = (side, k) => { done[side][k] = (done[side][k] || 0) + 1; };
	const sget = async (p, k) => {
		const r = await call('GET', stripe + p, sHead);
		count('stripe', k);
		if (r.status !== 200)
			throw new Error('Stripe ' + p + ': HTTP ' + r.status);
		return r.text;
	};
	const cdo = async (method, p, k, body) => {
		const r = await call(method, sim + p + (p.includes('?') ? '&' : '?') +
		    iq, cHead, body);
		count('cloud', k);
		if (r.status !== 200 && r.status !== 201)
			throw new Error('Cloud ' + method + ' ' + p + ': HTTP ' + r.status +
			    ' ' + r.text.slice(0, 200));
		return r.text;
	};

	const cpu0 = { cloud: cpuSeconds(cloudSim.pid),
	    stripe: cpuSeconds(stripeSim.pid) };
	const t0 = process.hrtime.bigint();

	// Stripe: the listing, then what the sync looked up.
	const charges = [], customers = [];
	const seenCh = new Set(), seenCus = new Set();
	let after = null;
	for (let i = 0; i < (want['/v1/balance_transactions'] || 0); i++) {
		const page = JSON.parse(await sget('/v1/balance_transactions?' +
		    'limit=100&expand%5B%5D=data.source' + (after === null ? '' :
		    '&starting_after=' + after), '/v1/balance_transactions'));
		for (const t of page.data) {
			const s = t.source;
			if (s && typeof s === 'object') {
				if (typeof s.charge === 'string' && !seenCh.has(s.charge)) {
					seenCh.add(s.charge);
					charges.push(s.charge);
				}
				if (typeof s.customer === 'string' &&
				    !seenCus.has(s.customer)) {
					seenCus.add(s.customer);
					customers.push(s.customer);
				}
			}
		}
		after = page.has_more ? page.data[page.data.length - 1].id : null;
	}
	for (const [p, n] of Object.entries(want)) {
		if (p === '/v1/balance_transactions')
			continue;
		if (p === '/v1/charges/{id}' || p === '/v1/customers/{id}') {
			const ids = p === '/v1/charges/{id}' ? charges : customers;
			if (ids.length === 0 && n > 0) {
				skipped.push(p + ' x' + n + ' (no ids to ask for)');
				continue;
			}
			for (let i = 0; i < n; i++)
				await sget(p.replace('{id}', ids[i % ids.length]), p);
		} else if (p === '/v1/customers') {
			let cur = null;
			for (let i = 0; i < n; i++) {
				const page = JSON.parse(await sget('/v1/customers?limit=100' +
				    (cur === null ? '' : '&starting_after=' + cur), p));
				cur = page.has_more ? page.data[page.data.length - 1].id :
				    null;
			}
		} else if (p === '/v1/balance') {
			for (let i = 0; i < n; i++)
				await sget(p, p);
		} else {
			skipped.push(p + ' x' + n);
		}
	}

	// Cloud: the same bulk posts, then the read-back, then the balances.
	const nbulk = cloudWant['POST /proxy/transactions/bulk'] || 0;
	for (let i = 0; i < groups.length && i < nbulk; i++)
		await cdo('POST', '/proxy/transactions/bulk',
		    'POST /proxy/transactions/bulk',
		    JSON.stringify({ transactions: groups[i].items }));
	if (nbulk > groups.length)
		skipped.push('POST /proxy/transactions/bulk x' +
		    (nbulk - groups.length) + ' (resent: no body to replay)');
	let missing = 0;
	if (cloudWant['GET /data/transactions']) {
		for (const b of batches) {
			const end = Date.now() + 60000;
			for (;;) {
				let found = 0;
				for (let page = 1; ; page++) {
					const r = JSON.parse(await cdo('GET', '/data/transactions' +
					    '?meta_data.stripe_sync.batch_eq=' +
					    encodeURIComponent(b.batch) + '&status_ne=QUEUED' +
					    '&pageSize=100&page=' + page,
					    'GET /data/transactions'));
					found += r.data.filter((t) =>
					    t.reference.endsWith('_q')).length;
					if (r.data.length < 100)
						break;
				}
				if (found >= b.postings || Date.now() > end) {
					missing += Math.max(0, b.postings - found);
					break;
				}
				await new Promise((r) => setTimeout(r, 100));
			}
		}
	}
	for (let i = 0; i < (cloudWant['GET /data/balances'] || 0); i++)
		await cdo('GET', '/data/balances?indicator_eq=%40stripe&pageSize=100',
		    'GET /data/balances');
	for (const k of Object.keys(cloudWant))
		if (!['POST /proxy/transactions/bulk', 'GET /data/transactions',
		    'GET /data/balances'].includes(k))
			skipped.push(k + ' x' + cloudWant[k]);

	const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
	const cpu = { cloud: cpuSeconds(cloudSim.pid) - cpu0.cloud,
	    stripe: cpuSeconds(stripeSim.pid) - cpu0.stripe };
	await stopAll();
	const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
	console.log(JSON.stringify({ ok: skipped.length === 0 && missing === 0,
	    seconds, stripe_calls: sum(done.stripe), cloud_calls: sum(done.cloud),
	    postings: groups.reduce((a, g) => a + g.items.length, 0),
	    bulk_posts: groups.length, missing, stripe: done.stripe,
	    cloud: done.cloud, cpu_cloud_sim: cpu.cloud,
	    cpu_stripe_sim: cpu.stripe, skipped }));
}

main().catch(async (e) => {
	await stopAll();
	console.log(JSON.stringify({ ok: false, error: String(e.message || e) }));
	process.exit(1);
});
