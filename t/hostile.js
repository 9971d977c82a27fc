#!/usr/bin/env node
'use strict';
/*
 * t/hostile.js: send the hostile catalogue (t/hostile.txt) through the
 * real nginx site of a running stack and judge every answer.
 *
 *   node t/hostile.js --app https://127.0.0.1:PORT --ca CERT --vars FILE
 *       [--catalogue t/hostile.txt] [--seed S] [--out results.jsonl]
 *       [--only NAME-SUBSTRING]
 *
 * --vars names a JSON object of placeholder values ({ID}, {TOK}, ...;
 * see t/hostile.txt).  Each request is written by hand on a TLS socket of
 * its own (HTTP/1.1, Connection: close), so the catalogue can send what
 * no well-behaved client would: raw control bytes in the request line or
 * a header, a wrong Content-Length, two headers of one name.  Stripe
 * signatures are made by Stripe's own Node library (as t/webhook-sign.js
 * does): the tests never sign with code of their own.
 *
 * Every answer is checked for: the expected status (and error code and
 * field where the entry names them); never a 5xx; on a 4xx, a JSON body
 * of exactly the app's shape {"error":{"code","message"[,"field"]}};
 * on a 2xx, JSON (or the content type the entry names); the headers
 * every API answer carries; and that no secret of the stack (the
 * callback secret, a signing secret, a session token) is echoed back.
 * One JSON line per entry goes to --out; the exit status is 0 when the
 * catalogue could be run (judging is the shell test's), 2 on a usage or
 * catalogue error.
 */

const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const crypto = require('node:crypto');

function die(msg) {
	process.stderr.write('hostile.js: ' + msg + '\n');
	process.exit(2);
}

/* --- options ------------------------------------------------------------ */

const opt = {
	catalogue: path.join(__dirname, 'hostile.txt'), seed: '1',
	out: 'results.jsonl',
};
{
	const a = process.argv.slice(2);
	for (let i = 0; i < a.length; i += 2) {
		const k = a[i].replace(/^--/, '');
		if (!['app', 'ca', 'vars', 'catalogue', 'seed', 'out', 'only'].includes(k) ||
		    a[i + 1] === undefined)
			die('usage: hostile.js --app URL --ca FILE --vars FILE ' +
			    '[--catalogue FILE] [--seed S] [--out FILE] [--only S]');
		opt[k] = a[i + 1];
	}
	if (!opt.app || !opt.ca || !opt.vars)
		die('--app, --ca and --vars are required');
}
const appUrl = new URL(opt.app);
const ca = fs.readFileSync(opt.ca);
const vars = JSON.parse(fs.readFileSync(opt.vars, 'utf8'));

/* --- a seeded generator (xorshift128+ on a hash of the seed) ------------ */

const seedBytes = crypto.createHash('sha256').update(String(opt.seed)).digest();
let s0 = seedBytes.readBigUInt64LE(0) | 1n, s1 = seedBytes.readBigUInt64LE(8) | 1n;
const M64 = (1n << 64n) - 1n;
function rand32() {
	let x = s0;
	const y = s1;
	s0 = y;
	x ^= (x << 23n) & M64;
	s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
	return Number(((s1 + y) & M64) >> 32n);
}
/* A whole number in [lo, hi]. */
function between(lo, hi) {
	return lo + (rand32() % (hi - lo + 1));
}
function randomBytes(n) {
	const b = Buffer.alloc(n);
	for (let i = 0; i < n; i++)
		b[i] = rand32() & 0xff;
	return b;
}
/* "N" or "LO-HI" (a length the seed picks). */
function count(spec) {
	const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
	if (m === null)
		throw new Error('not a count: ' + spec);
	return m[2] === undefined ? Number(m[1]) : between(Number(m[1]), Number(m[2]));
}

/* --- Stripe's library, for signatures ----------------------------------- */

let stripeLib = null;
function stripeSign(payload, secret, timestamp) {
	if (stripeLib === null) {
		const top = process.env.top_srcdir || path.join(__dirname, '..');
		let Stripe;
		try {
			Stripe = require(require.resolve('stripe',
			    { paths: [path.join(top, 'tools', 'stripe-sim', 'test')] }));
		} catch (e) {
			die('the stripe npm package is not installed ' +
			    '(cd tools/stripe-sim/test && npm ci)');
		}
		stripeLib = Stripe('sk_test_unused');
	}
	return stripeLib.webhooks.generateTestHeaderString({
		payload: payload.toString('utf8'), secret, timestamp });
}

/*
 * Stripe's library signs a string, so it cannot sign bytes that are not
 * UTF-8 (Stripe never sends such a body).  Those, and only those, are
 * signed with node:crypto's HMAC-SHA256 over "<t>.<body>", in Stripe's
 * header format; the same code signs every UTF-8 body too and must agree
 * with the library there, so it is checked against it each time.
 */
function signature(payload, secret, ts) {
	const mac = crypto.createHmac('sha256', secret).update(ts + '.')
	    .update(payload).digest('hex');
	const own = 't=' + ts + ',v1=' + mac;
	if (Buffer.from(payload.toString('utf8'), 'utf8').equals(payload)) {
		const lib = stripeSign(payload, secret, ts);
		if (lib !== own)
			die('node:crypto and Stripe\'s library disagree on a ' +
			    'signature: ' + own + ' vs ' + lib);
		return lib;
	}
	return own;
}

/* --- placeholders --------------------------------------------------------- */

/*
 * Token transforms, {TOK|flip} and the like: each makes a token that a
 * holder of the real one could make, none that the app should accept.
 */
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function otherChar(c) {
	let d;
	do
		d = B64URL[rand32() % 64];
	while (d === c);
	return d;
}
const transforms = {
	/* One character of the payload changed, somewhere. */
	flip: (t) => {
		const dot = t.indexOf('.');
		const i = between(0, dot - 1);
		return t.slice(0, i) + otherChar(t[i]) + t.slice(i + 1);
	},
	/* One character of the signature changed, somewhere. */
	sigflip: (t) => {
		const dot = t.indexOf('.');
		const i = between(dot + 1, t.length - 1);
		return t.slice(0, i) + otherChar(t[i]) + t.slice(i + 1);
	},
	/* The last character of the signature changed (its low bits are
	 * padding in base64: a lax decoder would accept it). */
	lastflip: (t) => {
		const c = t[t.length - 1];
		const i = B64URL.indexOf(c);
		return t.slice(0, -1) + B64URL[(i & ~3) + ((i + 1) & 3)];
	},
	trunc: (t) => t.slice(0, t.length - between(1, 10)),
	payload: (t) => t.slice(0, t.indexOf('.')),
	nodot: (t) => t.replace('.', ''),
	twodots: (t) => t + '.' + t.slice(t.indexOf('.') + 1),
	swap: (t) => {
		const [p, s] = t.split('.');
		return s + '.' + p;
	},
	upper: (t) => t.toUpperCase(),
	double: (t) => t + t,
	pad: (t) => t + '=',
	/* The payload of one token under the signature of another. */
	mix: (t) => t.slice(0, t.indexOf('.')) +
	    vars.OTHER_TOK.slice(vars.OTHER_TOK.indexOf('.')),
};

/* Expand the placeholders of one piece of text into bytes. */
function expand(text) {
	const out = [];
	let i = 0, lit = '';
	const flush = () => {
		if (lit !== '')
			out.push(Buffer.from(lit, 'utf8'));
		lit = '';
	};
	while (i < text.length) {
		const c = text[i];
		if (c === '\\') {
			const n = text[i + 1];
			if (n === 'x') {
				flush();
				out.push(Buffer.from([parseInt(text.substr(i + 2, 2), 16)]));
				i += 4;
				continue;
			}
			const map = { n: '\n', r: '\r', t: '\t', '\\': '\\', '{': '{', '}': '}', s: ' ' };
			/* Any other backslash is the body's own (a JSON
			 * escape such as \u0000 or \"): kept as written. */
			lit += n in map ? map[n] : c + n;
			i += 2;
			continue;
		}
		/* {NAME...}: a placeholder; any other brace is JSON's. */
		if (c === '{' && /^\{[A-Z][A-Z0-9_]*(\|[a-z]+|:[^}]*)?\}/.test(text.slice(i))) {
			const j = text.indexOf('}', i);
			flush();
			out.push(placeholder(text.slice(i + 1, j)));
			i = j + 1;
			continue;
		}
		lit += c;
		i++;
	}
	flush();
	return Buffer.concat(out);
}

/*
 * One placeholder: a variable ({ID}), a transformed token ({TOK|flip}),
 * or a generator ({PAD:N}, {RAND:N}, {DEEP:N}, {DEEPOBJ:N}, {KEYS:N},
 * {REPEAT:N:text}, {HEXID:N}), where N may be LO-HI for a length chosen
 * by the seed.
 */
function placeholder(p) {
	let m;
	if ((m = /^([A-Z_0-9]+)\|([a-z]+)$/.exec(p))) {
		if (!(m[1] in vars) || !(m[2] in transforms))
			throw new Error('unknown placeholder {' + p + '}');
		return Buffer.from(transforms[m[2]](vars[m[1]]), 'utf8');
	}
	if ((m = /^PAD:([0-9-]+)(?::(.))?$/.exec(p)))
		return Buffer.alloc(count(m[1]), m[2] || 'a');
	if ((m = /^RAND:([0-9-]+)$/.exec(p)))
		return randomBytes(count(m[1]));
	if ((m = /^HEXID:([0-9-]+)$/.exec(p)))
		return Buffer.from(randomBytes(count(m[1])).toString('hex'));
	if ((m = /^DEEP:([0-9-]+)$/.exec(p))) {
		const n = count(m[1]);
		return Buffer.from('['.repeat(n) + ']'.repeat(n));
	}
	if ((m = /^DEEPOBJ:([0-9-]+)$/.exec(p))) {
		const n = count(m[1]);
		return Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n));
	}
	if ((m = /^KEYS:([0-9-]+)$/.exec(p))) {
		const n = count(m[1]);
		const a = [];
		for (let i = 0; i < n; i++)
			a.push('"k' + i + '":' + i);
		return Buffer.from(a.join(','));
	}
	/* Pads the whole body to N bytes: see buildRequest(). */
	if ((m = /^PADTO:(\d+)$/.exec(p)))
		return Buffer.from('\0PADTO' + m[1] + '\0');
	if ((m = /^REPEAT:([0-9-]+):(.*)$/.exec(p)))
		return Buffer.from(m[2].repeat(count(m[1])));
	if (p in vars)
		return Buffer.from(String(vars[p]), 'utf8');
	throw new Error('unknown placeholder {' + p + '}');
}

/* --- the catalogue ------------------------------------------------------- */

/*
 * Entries are blocks of "keyword value" lines, each begun by "= name";
 * "#" lines are comments.  See t/hostile.txt for the keywords.
 */
function parseCatalogue(file) {
	const lines = fs.readFileSync(file, 'utf8').split('\n');
	const entries = [];
	let e = null, cat = null;
	lines.forEach((raw, n) => {
		const line = raw.replace(/\s+$/, '');
		const where = path.basename(file) + ':' + (n + 1);
		if (line === '' || line.startsWith('#'))
			return;
		const m = /^(\S+)\s*(.*)$/.exec(line);
		const [, k, v] = m;
		if (k === 'category') {
			cat = v;
			return;
		}
		if (k === '=') {
			if (cat === null)
				throw new Error(where + ': an entry before any category');
			e = { name: v, cat, line: n + 1, headers: [], body: null, want: null };
			entries.push(e);
			return;
		}
		if (e === null)
			throw new Error(where + ': "' + k + '" outside an entry');
		switch (k) {
		case 'req': {
			const r = /^(\S+) (\S.*)$/.exec(v);
			if (r === null)
				throw new Error(where + ': req METHOD PATH');
			e.method = r[1];
			e.path = r[2];
			break;
		}
		case 'hdr':
			e.headers.push(v);
			break;
		case 'auth':
			e.headers.push('Authorization: Bearer ' + v);
			break;
		case 'json':
			e.headers.push('Content-Type: application/json');
			break;
		case 'body':
			e.body = v;
			break;
		case 'sig':
			e.sig = v.split(/\s+/);
			break;
		case 'len':
			e.len = v;
			break;
		case 'want': {
			const w = v.split(/\s+/);
			e.want = { status: Number(w[0]), code: w[1], field: w[2] };
			if (!(e.want.status === 0 || e.want.status >= 100 && e.want.status < 600))
				throw new Error(where + ': want STATUS [CODE [FIELD]]');
			break;
		}
		case 'type':
			e.type = v;
			break;
		case 'has':
			(e.has = e.has || []).push(v);
			break;
		case 'nohdr':
			(e.nohdr = e.nohdr || []).push(v.toLowerCase());
			break;
		case 'eof':
			e.eof = true;
			break;
		case 'known':
			e.known = v;
			break;
		case 'origin':
			e.origin = v;
			break;
		default:
			throw new Error(where + ': unknown keyword ' + k);
		}
	});
	for (const x of entries)
		if (!x.method || !x.want)
			throw new Error(path.basename(file) + ':' + x.line + ': "' +
			    x.name + '" needs req and want');
	return entries;
}

/* --- one request on a socket of its own ---------------------------------- */

function buildRequest(e) {
	const reqPath = expand(e.path);
	let body = e.body === null ? Buffer.alloc(0) : expand(e.body);
	const pad = /\0PADTO(\d+)\0/.exec(body.toString('latin1'));
	if (pad !== null) {
		const i = body.indexOf('\0PADTO');
		const rest = body.length - pad[0].length;
		body = Buffer.concat([body.slice(0, i),
		    Buffer.alloc(Number(pad[1]) - rest, 'a'),
		    body.slice(i + pad[0].length)]);
	}
	const head = [Buffer.from(e.method + ' '), reqPath,
	    Buffer.from(' HTTP/1.1\r\nHost: ' + appUrl.host + '\r\n' +
	    'Connection: close\r\nUser-Agent: stripe-sync-hostile\r\n')];
	for (const h of e.headers)
		head.push(expand(h), Buffer.from('\r\n'));
	if (e.sig !== undefined) {
		const [who, ...mods] = e.sig;
		const secret = who === 'RANDOM' ?
		    'whsec_' + randomBytes(24).toString('base64').replace(/[+/=]/g, '') :
		    vars[who];
		if (secret === undefined)
			throw new Error('sig: unknown secret ' + who);
		let ts = Math.floor(Date.now() / 1000), payload = body;
		for (const mod of mods) {
			let mm;
			if ((mm = /^age=(-?)([0-9-]+)$/.exec(mod)))
				ts -= (mm[1] ? -1 : 1) * count(mm[2]);
			else if ((mm = /^over=(.*)$/.exec(mod)))
				payload = expand(mm[1]);
			else
				throw new Error('sig: unknown option ' + mod);
		}
		head.push(Buffer.from('Stripe-Signature: ' +
		    signature(payload, secret, ts) + '\r\n'));
	}
	if (e.len === undefined)
		head.push(Buffer.from('Content-Length: ' + body.length + '\r\n'));
	else if (e.len !== 'none')
		head.push(Buffer.from('Content-Length: ' + e.len + '\r\n'));
	head.push(Buffer.from('\r\n'));
	return Buffer.concat([...head, body]);
}

function send(bytes, eof) {
	return new Promise((resolve) => {
		const chunks = [];
		let done = false;
		const finish = (err) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			resolve({ raw: Buffer.concat(chunks), err });
		};
		const sock = tls.connect({
			host: appUrl.hostname, port: Number(appUrl.port || 443), ca,
			ALPNProtocols: ['http/1.1'],
		}, () => {
			sock.write(bytes);
			if (eof)
				sock.end();
		});
		const timer = setTimeout(() => finish('timeout after 30 s'), 30000);
		sock.on('data', (d) => chunks.push(d));
		sock.on('end', () => finish(null));
		sock.on('close', () => finish(null));
		sock.on('error', (err) => finish(chunks.length ? null : String(err)));
	});
}

function parseResponse(raw) {
	const sep = raw.indexOf('\r\n\r\n');
	if (sep < 0)
		return null;
	const lines = raw.slice(0, sep).toString('latin1').split('\r\n');
	const st = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
	if (st === null)
		return null;
	const headers = {};
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		const k = l.slice(0, i).trim().toLowerCase();
		(headers[k] = headers[k] || []).push(l.slice(i + 1).trim());
	}
	let body = raw.slice(sep + 4);
	if ((headers['transfer-encoding'] || []).some((v) => /chunked/i.test(v))) {
		const parts = [];
		let p = 0;
		for (;;) {
			const eol = body.indexOf('\r\n', p);
			if (eol < 0)
				break;
			const n = parseInt(body.slice(p, eol).toString('latin1'), 16);
			if (!(n > 0))
				break;
			parts.push(body.slice(eol + 2, eol + 2 + n));
			p = eol + 2 + n + 2;
		}
		body = Buffer.concat(parts);
	}
	return { status: Number(st[1]), headers, body };
}

/* --- judging -------------------------------------------------------------- */

/* What must never come back in an answer. */
const secrets = (vars.SECRETS || []).filter((s) => typeof s === 'string' && s.length >= 12);

function judge(e, r) {
	const why = [];
	const w = e.want;
	/* want 0: the connection ends without an answer (nginx gave up
	 * on the request; the app never saw it). */
	if (w.status === 0)
		return r === null ? why : ['an answer ' + r.status + ', want none'];
	if (r === null) {
		why.push('no HTTP answer');
		return why;
	}
	if (r.status !== w.status)
		why.push('status ' + r.status + ', want ' + w.status);
	/* Never a 5xx, but where the catalogue says nginx answers so
	 * itself, by HTTP's rules (a known entry wanting that status). */
	if (r.status >= 500 && !(e.known && w.status === r.status))
		why.push('a 5xx answer');
	const ct = (r.headers['content-type'] || [''])[0];
	const text = r.body.toString('utf8');
	let j;
	if (e.type !== undefined) {
		if (!ct.startsWith(e.type))
			why.push('content type "' + ct + '", want ' + e.type);
	} else if (e.method !== 'HEAD' && (r.status >= 200 && r.status < 300 || r.status >= 400)) {
		if (!/^application\/json\b/.test(ct))
			why.push('content type "' + ct + '", want application/json');
		try {
			j = JSON.parse(text);
		} catch (err) {
			why.push('the body is not JSON: ' + JSON.stringify(text.slice(0, 120)));
		}
		if (r.body.length > 0 && !Buffer.from(text, 'utf8').equals(r.body))
			why.push('the body is not valid UTF-8');
	}
	if (j !== undefined && r.status >= 400) {
		const keys = j && typeof j === 'object' ? Object.keys(j) : [];
		const er = j && j.error;
		if (keys.length !== 1 || keys[0] !== 'error' || !er || typeof er !== 'object')
			why.push('not the error shape {"error":{...}}: ' + text.slice(0, 160));
		else {
			const ek = Object.keys(er);
			if (typeof er.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(er.code))
				why.push('error.code is not a CODE: ' + JSON.stringify(er.code));
			if (typeof er.message !== 'string' || er.message === '')
				why.push('error.message is not a sentence');
			if ('field' in er && (typeof er.field !== 'string' || er.field === ''))
				why.push('error.field is not a name');
			if (ek.some((k) => !['code', 'message', 'field'].includes(k)))
				why.push('error has members besides code, message, field: ' + ek);
			if (w.code !== undefined && er.code !== w.code)
				why.push('code ' + er.code + ', want ' + w.code);
			if (w.field !== undefined && w.field !== '-' && er.field !== w.field)
				why.push('field ' + er.field + ', want ' + w.field);
			if (w.field === '-' && 'field' in er)
				why.push('field ' + er.field + ', want none');
		}
	}
	if (j !== undefined && r.status < 300 && w.code !== undefined)
		why.push('a 2xx takes no code in the catalogue');
	/* Every answer of the app (and of nginx's JSON fallbacks) says so. */
	if ((r.headers['x-content-type-options'] || [])[0] !== 'nosniff')
		why.push('no X-Content-Type-Options: nosniff');
	if (e.origin !== 'static' && !(r.headers['cache-control'] || []).some((v) => /no-store/.test(v)))
		why.push('no Cache-Control: no-store');
	for (const h of e.nohdr || [])
		if (h in r.headers)
			why.push('the answer has a header ' + h);
	for (const h of e.has || []) {
		const x = expand(h).toString('utf8');
		if (!text.includes(x))
			why.push('the body lacks ' + JSON.stringify(h));
	}
	const all = r.body.toString('latin1') + JSON.stringify(r.headers);
	for (const s of secrets)
		if (all.includes(s) || all.includes(s.slice(0, 16)))
			why.push('a secret of the stack is echoed in the answer');
	return why;
}

async function main() {
	let entries;
	try {
		entries = parseCatalogue(opt.catalogue);
	} catch (err) {
		die(err.message);
	}
	if (opt.only)
		entries = entries.filter((e) => e.name.includes(opt.only));
	const out = fs.openSync(opt.out, 'w');
	for (const e of entries) {
		let bytes;
		try {
			bytes = buildRequest(e);
		} catch (err) {
			die(path.basename(opt.catalogue) + ':' + e.line + ': ' + err.message);
		}
		const t0 = Date.now();
		const res = await send(bytes, e.eof);
		const r = res.err ? null : parseResponse(res.raw);
		let why = judge(e, r), excused = [];
		if (res.err && e.want.status !== 0)
			why.unshift(res.err);
		/*
		 * A known failure excuses only what its line says is
		 * nginx's: an answer that is not the app's JSON.  Its status,
		 * and everything else, is still judged.
		 */
		if (e.known) {
			const nginxs = /^(content type|the body is not JSON|not the error shape|no Cache-Control)/;
			excused = why.filter((w) => nginxs.test(w));
			why = why.filter((w) => !nginxs.test(w));
		}
		fs.writeSync(out, JSON.stringify({
			name: e.name, cat: e.cat, line: e.line, method: e.method,
			path: e.path, sent: bytes.length, ms: Date.now() - t0,
			status: r && r.status,
			want: e.want.status + (e.want.code ? ' ' + e.want.code : '') +
			    (e.want.field ? ' ' + e.want.field : ''),
			body: r ? r.body.toString('utf8').slice(0, 300) : null,
			known: e.known || null, ok: why.length === 0, why, excused,
		}) + '\n');
	}
	fs.closeSync(out);
}

main().catch((err) => die(err.stack || String(err)));
