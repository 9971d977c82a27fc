#!/usr/bin/env node
'use strict';
/*
 * t/torture-client.js: install and uninstall events from many concurrent
 * clients straight to the FastCGI socket of a worker pool, with an
 * optional killer that SIGKILLs a worker every few milliseconds; then a
 * check of the database against what was acknowledged.  No dependencies.
 *
 *   node t/torture-client.js run --sock SOCK --secret CALLBACK_SECRET
 *       --out EVENTS.jsonl [--clients 16] [--apps N] [--cycles 2]
 *       [--prefix tt] [--seed S] [--until-file F] [--timeout-ms 15000]
 *       [--retries 4] [--abandon 0.3] [--twins 0.15]
 *       [--kill-master PID --kill-ms 100 [--kill-min-age-ms 1100]]
 *       [--stats STATS.json]
 *   node t/torture-client.js verify --db DB --events EVENTS.jsonl
 *       [--conf CONF --cloud-call PATH] [--lost-before MS]
 *       [--kept-before MS] [--out V.json]
 *   node t/torture-client.js window --events EVENTS.jsonl --from MS --to MS
 *
 * run: each client owns its apps (prefix_<client>_<n>) and sends, for
 * each, the sequence install 1, uninstall 1, install 2, ... (a seeded
 * length of 1 to 2 * cycles events), one event at a time, each with its
 * own idempotency_key and, for an install, its own api_key.  An event is
 * acknowledged when an answer is 2xx.  An attempt left unanswered (the
 * connection closed by a killed worker, a timeout) or answered 503 is
 * delivered again with the same key, as Cloud redelivers, up to --retries
 * times, unless the seeded dice abandon it (--abandon, the probability):
 * then it stays unacknowledged and its app stops there, so its last event
 * is the only one whose fate the client does not know.  With --twins an
 * install is delivered on two connections at once.  --apps sets the total
 * number of apps; --until-file instead keeps making new apps until that
 * file exists.  Every attempt is judged: a 2xx must be {"ok":true[,
 * "duplicate":true]}, anything else JSON of the shape {"error":{"code",
 * "message"[,"field"]}}, and no status but 200 and 503 is expected.
 * Writes one JSON line per event (its attempts with their times) to --out
 * and the figures to --stats (and standard output).
 *
 * The killer SIGKILLs, every --kill-ms, one worker of the supervisor
 * --kill-master (chosen with the seed among its children that have lived
 * --kill-min-age-ms: the supervisor waits before it replaces a worker that
 * died young, by design, so killing only the young would empty the pool).
 *
 * verify: checks the database against the events, app by app (see
 * check_app below for what "there", "not there" and "half there" mean),
 * and with --conf and --cloud-call that each active install's sealed key
 * opens to the api_key of the install event that set it, by having
 * t/cloud-call make a call with it to a stand-in for Cloud here that
 * records the bearer.  --lost-before MS: the database was deleted or
 * replaced after that moment (ms since the epoch), so what was
 * acknowledged before it may be missing, and what remains is checked for
 * consistency only; --kept-before MS: but what was acknowledged before
 * that moment must be there (it was in the backup put in place).  Exit
 * status 0 when everything holds, 1 otherwise (the problems in --out), 2
 * on a usage error.
 *
 * window: the attempts sent between --from and --to (ms since the epoch),
 * counted by how they were answered (503s by error code), as JSON;
 * acked_by_to counts those of them answered 2xx before --to.
 */

const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const path = require('node:path');
const { execFileSync, execFile } = require('node:child_process');

function usage(msg) {
	process.stderr.write(`torture-client: ${msg}\n`);
	process.exit(2);
}

function parseArgs(argv) {
	const o = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (!a.startsWith('--'))
			usage(`unexpected argument ${a}`);
		const k = a.slice(2);
		if (i + 1 >= argv.length)
			usage(`${a} needs a value`);
		o[k] = argv[++i];
	}
	return o;
}

/* A seeded generator (mulberry32 over a string hash). */
function rng(seed) {
	let h = 1779033703 ^ seed.length;
	for (let i = 0; i < seed.length; i++) {
		h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
		h = (h << 13) | (h >>> 19);
	}
	let a = h >>> 0;
	return () => {
		a = (a + 0x6D2B79F5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

// --- FastCGI ---------------------------------------------------------------

function record(type, id, content) {
	const pad = (8 - (content.length % 8)) % 8;
	const h = Buffer.alloc(8);
	h[0] = 1; h[1] = type; h.writeUInt16BE(id, 2);
	h.writeUInt16BE(content.length, 4); h[6] = pad;
	return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

function nvlen(n) {
	if (n < 128)
		return Buffer.from([n]);
	const b = Buffer.alloc(4);
	b.writeUInt32BE((n | 0x80000000) >>> 0);
	return b;
}

function params(env) {
	const parts = [];
	for (const [k, v] of Object.entries(env)) {
		const kb = Buffer.from(k), vb = Buffer.from(String(v));
		parts.push(nvlen(kb.length), nvlen(vb.length), kb, vb);
	}
	return Buffer.concat(parts);
}

/*
 * One request on a connection of its own.  Resolves to {status, headers,
 * body} or {error: 'closed' | 'timeout' | 'connect: ...'}.
 */
function fcgiRequest(sock, method, uri, body, timeoutMs) {
	return new Promise((resolve) => {
		const b = Buffer.from(body || '');
		const env = {
			REQUEST_METHOD: method, REQUEST_URI: uri, SCRIPT_NAME: uri,
			QUERY_STRING: '', GATEWAY_INTERFACE: 'CGI/1.1',
			SERVER_PROTOCOL: 'HTTP/1.1', CONTENT_LENGTH: b.length,
			CONTENT_TYPE: 'application/json',
		};
		const begin = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]);
		const out = [record(1, 1, begin), record(4, 1, params(env)),
			record(4, 1, Buffer.alloc(0))];
		for (let i = 0; i < b.length; i += 65535)
			out.push(record(5, 1, b.subarray(i, i + 65535)));
		out.push(record(5, 1, Buffer.alloc(0)));
		let buf = Buffer.alloc(0), stdout = [], done = false;
		const c = net.createConnection(sock);
		const finish = (r) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			c.destroy();
			resolve(r);
		};
		const timer = setTimeout(() => finish({ error: 'timeout' }), timeoutMs);
		c.on('connect', () => c.write(Buffer.concat(out)));
		c.on('error', (e) => finish({ error: done ? 'closed' : `socket: ${e.code}` }));
		c.on('close', () => finish({ error: 'closed' }));
		c.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8) {
				const len = buf.readUInt16BE(4), pad = buf[6];
				if (buf.length < 8 + len + pad)
					break;
				const type = buf[1], content = buf.subarray(8, 8 + len);
				buf = buf.subarray(8 + len + pad);
				if (type === 6)
					stdout.push(content);
				else if (type === 3)
					return finish(parseResponse(Buffer.concat(stdout)));
			}
		});
	});
}

function parseResponse(raw) {
	const s = raw.toString('utf8');
	const i = s.indexOf('\r\n\r\n');
	if (i < 0)
		return { error: 'no header end' };
	const headers = {};
	for (const line of s.slice(0, i).split('\r\n')) {
		const j = line.indexOf(':');
		if (j > 0)
			headers[line.slice(0, j).toLowerCase()] = line.slice(j + 1).trim();
	}
	const status = parseInt((headers.status || '200').split(' ')[0], 10);
	return { status, headers, body: s.slice(i + 4) };
}

/*
 * Judge one answer: returns {res, status, code, bad}.  res is 'ok', 'dup',
 * 'unavailable' (a 503 of the right shape), 'unanswered', or 'other'; bad
 * says what is wrong with it, if anything.
 */
function judge(r) {
	if (r.error)
		return { res: 'unanswered', why: r.error };
	let j = null;
	try { j = JSON.parse(r.body); } catch (e) { /* judged below */ }
	const ct = r.headers['content-type'] || '';
	if (j === null || !/^application\/json/.test(ct))
		return { res: 'other', status: r.status,
			bad: `status ${r.status} with a body that is not JSON (${ct}): ${r.body.slice(0, 120)}` };
	if (r.status >= 200 && r.status < 300) {
		if (j.ok !== true)
			return { res: 'other', status: r.status, bad: `2xx without ok:true: ${r.body}` };
		return { res: j.duplicate === true ? 'dup' : 'ok', status: r.status };
	}
	const e = j.error;
	if (typeof e !== 'object' || e === null || typeof e.code !== 'string' ||
	    typeof e.message !== 'string' ||
	    Object.keys(e).some((k) => !['code', 'message', 'field'].includes(k)))
		return { res: 'other', status: r.status, bad: `error of the wrong shape: ${r.body}` };
	if (r.status === 503)
		return { res: 'unavailable', status: 503, code: e.code };
	return { res: 'other', status: r.status, code: e.code,
		bad: `unexpected ${r.status} ${e.code}: ${e.message}` };
}

// --- the killer --------------------------------------------------------------

function children(master) {
	const out = [];
	const up = parseFloat(fs.readFileSync('/proc/uptime', 'utf8'));
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		let st;
		try { st = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch (e) { continue; }
		const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
		if (+f[1] !== master || f[0] === 'Z')
			continue;
		let cmd = '';
		try { cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch (e) { continue; }
		if (!cmd.includes('stripe-sync.fcgi'))
			continue;
		out.push({ pid: +d, age: (up - (+f[19]) / 100) * 1000 });
	}
	return out;
}

function startKiller(o, stats, rand) {
	const master = +o['kill-master'];
	const every = +(o['kill-ms'] || 100);
	const minAge = +(o['kill-min-age-ms'] || 1100);
	const t = setInterval(() => {
		let kids;
		try { kids = children(master).filter((k) => k.age >= minAge); } catch (e) { kids = []; }
		if (kids.length === 0) {
			stats.kill_ticks_skipped++;
			return;
		}
		const v = kids[Math.floor(rand() * kids.length)];
		try { process.kill(v.pid, 'SIGKILL'); stats.kills++; } catch (e) { /* gone */ }
	}, every);
	return () => clearInterval(t);
}

// --- run ---------------------------------------------------------------------

async function run(o) {
	for (const k of ['sock', 'secret', 'out'])
		if (!o[k])
			usage(`run needs --${k}`);
	const clients = +(o.clients || 16);
	const cycles = +(o.cycles || 2);
	const prefix = o.prefix || 'tt';
	const seed = o.seed || 'torture';
	const timeoutMs = +(o['timeout-ms'] || 15000);
	const retries = +(o.retries || 4);
	const abandon = +(o.abandon || 0.3);
	const twins = +(o.twins || 0.15);
	const until = o['until-file'];
	const totalApps = until ? Infinity : +(o.apps || 100);
	const uri = `/api/callback/${o.secret}`;
	const out = fs.createWriteStream(o.out);
	const stats = { clients, apps: 0, events: 0, acked: 0, unacked: 0,
		attempts: 0, answered: {}, unanswered: 0, applied_unanswered: 0,
		twins: 0, kills: 0, kill_ticks_skipped: 0, bad: [], started_ms: Date.now() };
	const stopKiller = o['kill-master'] ? startKiller(o, stats, rng(`${seed}:kill`)) : () => {};
	let nextApp = 0;

	const attempt = async (ev, copies) => {
		const body = JSON.stringify(ev.body);
		const rs = await Promise.all(Array.from({ length: copies }, async () => {
			const t0 = Date.now();
			const r = await fcgiRequest(o.sock, 'POST', uri, body, timeoutMs);
			const a = Object.assign({ t0, t1: Date.now() }, judge(r));
			stats.attempts++;
			if (a.res === 'unanswered')
				stats.unanswered++;
			else
				stats.answered[a.status] = (stats.answered[a.status] || 0) + 1;
			if (a.bad)
				stats.bad.push(`${ev.idem}: ${a.bad}`);
			return a;
		}));
		ev.attempts.push(...rs);
		return rs;
	};

	const client = async (c) => {
		const rand = rng(`${seed}:client:${c}`);
		for (;;) {
			if (until ? fs.existsSync(until) : nextApp >= totalApps)
				return;
			const n = nextApp++;
			const app = `${prefix}_${c}_${n}`;
			stats.apps++;
			const len = 1 + Math.floor(rand() * 2 * cycles);
			for (let i = 0; i < len; i++) {
				const g = Math.floor(i / 2) + 1;
				const install = i % 2 === 0;
				const ev = { app, i, kind: install ? 'install' : 'uninstall',
					idem: `${install ? 'install' : 'uninstall'}:${app}:${g}`,
					attempts: [], acked: false };
				if (install) {
					ev.key = `blnk_test_${app}_${g}_` +
					    Math.floor(rand() * 2 ** 52).toString(16).padStart(13, '0');
					ev.body = { installed_app_id: app, app_id: 'app_1',
						instance_id: 'inst_1', api_key: ev.key,
						api_key_prefix: ev.key.slice(0, 9),
						granted_permissions: ['data:read', 'data:write'],
						idempotency_key: ev.idem };
				} else {
					ev.body = { installed_app_id: app, app_id: 'app_1',
						instance_id: 'inst_1',
						uninstalled_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
						idempotency_key: ev.idem };
				}
				stats.events++;
				let tries = 0, failedBefore = false;
				for (;;) {
					const twin = install && tries === 0 && rand() < twins;
					if (twin)
						stats.twins++;
					const rs = await attempt(ev, twin ? 2 : 1);
					if (rs.some((a) => a.res === 'ok' || a.res === 'dup')) {
						ev.acked = true;
						if (failedBefore && !rs.some((a) => a.res === 'ok'))
							stats.applied_unanswered++;
						break;
					}
					failedBefore = true;
					if (rs.some((a) => a.res === 'other'))
						break;
					if (++tries > retries || rand() < abandon)
						break;
					await new Promise((r) => setTimeout(r, 20 + Math.floor(rand() * 80)));
				}
				const line = Object.assign({}, ev);
				delete line.body;
				out.write(JSON.stringify(line) + '\n');
				if (ev.acked)
					stats.acked++;
				else {
					stats.unacked++;
					break;
				}
			}
		}
	};

	await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
	stopKiller();
	await new Promise((r) => out.end(r));
	stats.ended_ms = Date.now();
	stats.bad_count = stats.bad.length;
	stats.bad = stats.bad.slice(0, 20);
	const text = JSON.stringify(stats);
	if (o.stats)
		fs.writeFileSync(o.stats, text + '\n');
	process.stdout.write(text + '\n');
}

// --- verify ------------------------------------------------------------------

function sqlJson(db, q) {
	const s = execFileSync('sqlite3', ['-batch', '-json', db, q], { encoding: 'utf8',
		maxBuffer: 1 << 28 });
	return s.trim() === '' ? [] : JSON.parse(s);
}

/*
 * The events of one app, in the order it sent them, against its rows.
 * An event is "there" when its idempotency key is in events (with its
 * kind, its app and the outcome it had: "installed" for an install,
 * "uninstalled" for an uninstall that followed an install there,
 * "unknown-install" for one that did not) AND the install row shows what
 * the last event there did:
 *   - after an install: status active, install_event its key, a sealed
 *     key of its api_key's length (nonce 12 + key + tag 16) with a key
 *     id, api_key_prefix its first 9 characters, no uninstalled_at;
 *   - after an uninstall: status inactive, no sealed key nor key id, an
 *     uninstalled_at, install_event still the last install's key (or no
 *     row at all when no install of it is there);
 *   - generation: the number of its install events there (one per
 *     install, never two: nothing doubled).
 * "Half there" is any mismatch of the two tables: a key claimed without
 * its change, or a change without its claimed key.  Strictly (no
 * --lost-before), the events there must be exactly those acknowledged,
 * plus possibly the unacknowledged last one; and no event may have been
 * answered {"ok":true} without "duplicate" twice.
 */
function checkApp(evs, rows, inst, lostBefore, keptBefore, problems) {
	const p = (m) => problems.push(`${evs[0].app}: ${m}`);
	const byIdem = new Map(rows.map((r) => [r.idempotency_key, r]));
	for (const r of rows)
		if (!evs.some((e) => e.idem === r.idempotency_key))
			p(`events holds ${r.idempotency_key}, which was never sent`);
	let gen = 0, last = null, prevInstall = false, lastInstall = null;
	for (const e of evs) {
		const oks = e.attempts.filter((a) => a.res === 'ok').length;
		if (oks > 1)
			p(`${e.idem} was answered as a new event ${oks} times (doubled)`);
		const r = byIdem.get(e.idem);
		const sentAfter = e.attempts.length > 0 && e.attempts[0].t0 > lostBefore;
		const ackedBefore = e.acked && e.attempts.some((a) =>
		    (a.res === 'ok' || a.res === 'dup') && a.t1 < keptBefore);
		const refused = e.attempts.length > 0 &&
		    e.attempts.every((a) => a.res === 'unavailable');
		if (!r) {
			if (e.acked && (lostBefore === 0 || sentAfter || ackedBefore))
				p(`${e.idem} was acknowledged but is not in events`);
			if (lostBefore === 0 && oks > 0)
				p(`${e.idem} was answered ok but is not there`);
			continue;
		}
		if (refused)
			p(`${e.idem} is there, yet every delivery of it was answered 503`);
		if (lostBefore === 0 && (last === null ? e.i !== 0 : last.i !== e.i - 1))
			p(`${e.idem} is there but the event before it is not`);
		if (lostBefore === 0 && !e.acked && e !== evs[evs.length - 1])
			p(`${e.idem} is there, unacknowledged, yet its app went on`);
		if (r.kind !== e.kind || r.installed_app_id !== e.app)
			p(`${e.idem} recorded as ${r.kind} for ${r.installed_app_id}`);
		const want = e.kind === 'install' ? 'installed' :
		    prevInstall ? 'uninstalled' : 'unknown-install';
		if (r.outcome !== want)
			p(`${e.idem} recorded with outcome ${r.outcome}, want ${want}`);
		if (e.kind === 'install') {
			gen++;
			lastInstall = e;
		}
		prevInstall = e.kind === 'install';
		last = e;
	}
	if (last === null || (last.kind === 'uninstall' && lastInstall === null)) {
		if (inst)
			p(`an install row (${inst.status}) with none of its install events there`);
		return null;
	}
	if (!inst) {
		p(`${last.idem} is there but there is no install row (half there)`);
		return null;
	}
	if (inst.generation !== gen)
		p(`generation ${inst.generation}, but ${gen} install events are there`);
	if (inst.install_event !== lastInstall.idem)
		p(`install_event ${inst.install_event}, want ${lastInstall.idem}`);
	if (inst.api_key_prefix !== lastInstall.key.slice(0, 9))
		p(`api_key_prefix ${inst.api_key_prefix}, want ${lastInstall.key.slice(0, 9)}`);
	if (last.kind === 'install') {
		if (inst.status !== 'active' || inst.sealed_len !== 28 + last.key.length ||
		    !inst.api_key_kid || inst.uninstalled_at !== null)
			p(`after ${last.idem}: ${JSON.stringify(inst)} is not an active install with its sealed key (half there)`);
		return inst.status === 'active' ? { app: last.app, key: last.key } : null;
	}
	if (inst.status !== 'inactive' || inst.sealed_len !== null ||
	    inst.api_key_kid !== null || inst.uninstalled_at === null)
		p(`after ${last.idem}: ${JSON.stringify(inst)} is not an uninstalled install (half there)`);
	return null;
}

/* A stand-in for Cloud that records the bearer of each call. */
function bearerServer() {
	const seen = [];
	const srv = http.createServer((req, res) => {
		seen.push(req.headers.authorization || '');
		req.resume();
		req.on('end', () => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{"data":[],"total":0}');
		});
	});
	return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ srv, seen })));
}

async function checkKeys(o, active, problems) {
	const { srv, seen } = await bearerServer();
	const conf = `${o.conf}.keycheck`;
	const text = fs.readFileSync(o.conf, 'utf8').split('\n')
		.filter((l) => !/^cloud_api_url\s*=/.test(l) && !/^log_file\s*=/.test(l));
	text.push(`cloud_api_url = http://127.0.0.1:${srv.address().port}/`);
	text.push(`log_file = ${path.dirname(conf)}/keycheck.log`);
	fs.writeFileSync(conf, text.join('\n') + '\n', { mode: 0o600 });
	let checked = 0;
	for (const a of active) {
		const before = seen.length;
		await new Promise((resolve) => execFile(o['cloud-call'],
			['-c', conf, '-i', a.app, '-n', 'inst_1', 'ledgers'], () => resolve()));
		const got = seen.slice(before);
		if (got.length !== 1 || got[0] !== `Bearer ${a.key}`)
			problems.push(`${a.app}: its sealed key does not open to the acknowledged api_key (${got.length} calls)`);
		checked++;
	}
	srv.close();
	fs.unlinkSync(conf);
	return checked;
}

async function verify(o) {
	for (const k of ['db', 'events'])
		if (!o[k])
			usage(`verify needs --${k}`);
	const lostBefore = +(o['lost-before'] || 0);
	const keptBefore = +(o['kept-before'] || 0);
	const evs = fs.readFileSync(o.events, 'utf8').split('\n').filter(Boolean)
		.map((l) => JSON.parse(l));
	const apps = new Map();
	for (const e of evs) {
		if (!apps.has(e.app))
			apps.set(e.app, []);
		apps.get(e.app).push(e);
	}
	const like = (s) => s.replace(/'/g, "''");
	const prefixes = [...new Set([...apps.keys()].map((a) => a.replace(/_\d+_\d+$/, '')))];
	const where = prefixes.map((p) => `installed_app_id LIKE '${like(p)}\\_%' ESCAPE '\\'`).join(' OR ') || '0';
	const rows = sqlJson(o.db, `SELECT idempotency_key, kind, installed_app_id, outcome FROM events WHERE ${where}`);
	const insts = sqlJson(o.db, `SELECT installed_app_id, status, generation, install_event,
		api_key_prefix, length(api_key_sealed) AS sealed_len, api_key_kid, uninstalled_at
		FROM installs WHERE ${where}`);
	const rowsBy = new Map(), instBy = new Map();
	for (const r of rows) {
		if (!rowsBy.has(r.installed_app_id))
			rowsBy.set(r.installed_app_id, []);
		rowsBy.get(r.installed_app_id).push(r);
	}
	for (const r of insts)
		instBy.set(r.installed_app_id, r);
	const problems = [];
	for (const app of new Set([...rowsBy.keys(), ...instBy.keys()]))
		if (!apps.has(app))
			problems.push(`${app}: in the database but never sent`);
	const v = { apps: apps.size, events: evs.length, acked: 0, unacked: 0,
		unacked_there: 0, unacked_not_there: 0, rows: rows.length, active: 0,
		keys_checked: 0, lost_before: lostBefore };
	const active = [];
	const there = new Set(rows.map((r) => r.idempotency_key));
	for (const [app, list] of apps) {
		list.sort((a, b) => a.i - b.i);
		for (const e of list) {
			if (e.acked)
				v.acked++;
			else {
				v.unacked++;
				if (there.has(e.idem))
					v.unacked_there++;
				else
					v.unacked_not_there++;
			}
		}
		const a = checkApp(list, rowsBy.get(app) || [], instBy.get(app), lostBefore,
		    keptBefore, problems);
		if (a)
			active.push(a);
	}
	v.active = active.length;
	if (o.conf && o['cloud-call'])
		v.keys_checked = await checkKeys(o, active, problems);
	v.problem_count = problems.length;
	v.problems = problems.slice(0, 30);
	const text = JSON.stringify(v);
	if (o.out)
		fs.writeFileSync(o.out, text + '\n');
	process.stdout.write(text + '\n');
	process.exit(problems.length === 0 ? 0 : 1);
}

function windowCount(o) {
	const from = +o.from, to = +o.to;
	const w = { attempts: 0, ok: 0, dup: 0, unanswered: 0, other: 0, unavailable: {},
		acked_by_to: 0 };
	for (const l of fs.readFileSync(o.events, 'utf8').split('\n')) {
		if (!l)
			continue;
		for (const a of JSON.parse(l).attempts) {
			if (a.t0 < from || a.t0 > to)
				continue;
			w.attempts++;
			if (a.res === 'unavailable')
				w.unavailable[a.code] = (w.unavailable[a.code] || 0) + 1;
			else
				w[a.res]++;
			if ((a.res === 'ok' || a.res === 'dup') && a.t1 <= to)
				w.acked_by_to++;
		}
	}
	process.stdout.write(JSON.stringify(w) + '\n');
}

const [cmd, ...rest] = process.argv.slice(2);
const o = parseArgs(rest);
if (cmd === 'run')
	run(o).catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
else if (cmd === 'window')
	windowCount(o);
else if (cmd === 'verify')
	verify(o).catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
else
	usage('usage: torture-client.js run|verify --option value ...');
