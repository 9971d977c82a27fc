'use strict';
/*
 * API keys (docs.stripe.com/keys): sk_test_/rk_test_ keys act in test
 * mode, sk_live_/rk_live_ in live mode, and each mode is its own account
 * with its own data.  A restricted key (rk_) may be given the resources it
 * may read; without a list it may read everything.
 *
 * The keys file (--keys-file) is JSON:
 *   {"test": ["sk_test_...", {"key": "rk_test_...", "resources":
 *     ["balance_transactions", "charges"]}], "live": ["sk_live_..."]}
 * When the file does not exist, the simulator makes one test and one live
 * secret key and writes them there (mode 0600), printing nothing secret.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const { maskKey } = require('./errors');
const { BASE62 } = require('./rng');

const RESOURCE_NAMES = ['balance', 'balance_transactions', 'charges',
    'payment_intents', 'refunds', 'disputes', 'payouts', 'customers'];
const KEY_RE = /^(sk|rk)_(test|live)_[A-Za-z0-9]{16,247}$/;

/* Returns a new random key such as sk_test_ + 24 characters. */
function newKey(kind, mode) {
	let body = '';
	/* Only bytes below 248 (4 x 62), so each character is equally likely. */
	while (body.length < 24)
		for (const b of crypto.randomBytes(32))
			if (b < 248 && body.length < 24)
				body += BASE62[b % 62];
	return kind + '_' + mode + '_' + body;
}

class KeyStore {
	constructor() {
		this.keys = new Map();
	}

	/*
	 * Adds a key for mode; resources (rk_ only) lists what it may read.
	 * Returns null, or a message naming the problem (never the key).
	 */
	add(mode, key, resources) {
		if (mode !== 'test' && mode !== 'live')
			return 'mode must be "test" or "live"';
		if (typeof key !== 'string' || !KEY_RE.test(key))
			return 'a key must be sk_' + mode + '_ or rk_' + mode +
			    '_ and 16 or more letters and digits (got ' +
			    maskKey(String(key)) + ')';
		const m = KEY_RE.exec(key);
		if (m[2] !== mode)
			return 'key ' + maskKey(key) + ' is not a ' + mode + ' mode key';
		let allowed = null;
		if (resources !== undefined && resources !== null) {
			if (m[1] !== 'rk')
				return 'only a restricted key (rk_) takes resources';
			if (!Array.isArray(resources) ||
			    !resources.every((r) => RESOURCE_NAMES.includes(r)))
				return 'resources must be a list of ' +
				    RESOURCE_NAMES.join(', ');
			allowed = new Set(resources);
		}
		this.keys.set(key, { key, mode, restricted: m[1] === 'rk',
		    resources: allowed });
		return null;
	}

	/* Returns the key's record ({key, mode, restricted, resources}) or
	 * undefined. */
	lookup(key) {
		return this.keys.get(key);
	}

	/* Returns the keys masked, per mode (for GET /_sim/keys). */
	summary() {
		const out = { test: [], live: [] };
		for (const k of this.keys.values())
			out[k.mode].push({ key: maskKey(k.key), restricted: k.restricted,
			    resources: k.resources ? [...k.resources] : null });
		return out;
	}

	/*
	 * Loads the keys file, or creates it with a new test and live secret
	 * key when it does not exist.  Returns {created}.  Throws Error with a
	 * message (never a key) when the file is bad.
	 */
	loadFile(file) {
		let text;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch (e) {
			if (e.code !== 'ENOENT')
				throw new Error('cannot read --keys-file: ' + e.code);
			const made = { test: [newKey('sk', 'test')],
			    live: [newKey('sk', 'live')] };
			const tmp = file + '.' + process.pid + '.tmp';
			fs.writeFileSync(tmp, JSON.stringify(made, null, 2) + '\n',
			    { mode: 0o600 });
			fs.renameSync(tmp, file);
			this.loadValue(made);
			return { created: true };
		}
		let v;
		try {
			v = JSON.parse(text);
		} catch (e) {
			throw new Error('--keys-file is not valid JSON');
		}
		this.loadValue(v);
		return { created: false };
	}

	/* Adds the keys of a parsed keys file; throws on a bad one. */
	loadValue(v) {
		if (v === null || typeof v !== 'object' || Array.isArray(v))
			throw new Error('--keys-file must hold an object ' +
			    '{"test": [...], "live": [...]}');
		for (const mode of Object.keys(v)) {
			if (mode !== 'test' && mode !== 'live')
				throw new Error('--keys-file: unknown mode ' +
				    JSON.stringify(mode));
			if (!Array.isArray(v[mode]))
				throw new Error('--keys-file: ' + mode + ' must be a list');
			for (const e of v[mode]) {
				const isObj = e !== null && typeof e === 'object';
				const msg = this.add(mode, isObj ? e.key : e,
				    isObj ? e.resources : undefined);
				if (msg !== null)
					throw new Error('--keys-file: ' + msg);
			}
		}
	}
}

module.exports = { KeyStore, newKey, RESOURCE_NAMES, KEY_RE };
