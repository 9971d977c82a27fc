// t/portal-token.js APP_JS: runs the portal's script under Node with a
// minimal fake window (location, history, fetch, document, storage,
// timers) and checks, without a browser, the rule for the launch token:
// it is taken out of the address bar before the first API call (the rest
// of the address kept), sent only as "Authorization: Bearer", kept only in
// this tab's sessionStorage (so a reload keeps the session), never in
// localStorage or a cookie, and deleted when the server says the session
// is over or its expiry passes.  Prints TAP.
'use strict';
const fs = require('fs');
const vm = require('vm');

const source = fs.readFileSync(process.argv[2], 'utf8');
let n = 0, failed = 0;

function ok(cond, name, detail) {
	n++;
	if (cond) {
		console.log('ok ' + n + ' - ' + name);
	} else {
		failed++;
		console.log('not ok ' + n + ' - ' + name);
		if (detail !== undefined)
			console.log('#   ' + JSON.stringify(detail));
	}
}

// A DOM element that accepts what app.js does to one.
class El {
	constructor(tag) {
		this.tagName = String(tag).toUpperCase();
		this.childNodes = [];
		this.attrs = {};
		this.hidden = false;
		this.className = '';
		this.value = '';
		this.elements = {};
		this.own = '';
	}
	get textContent() {
		return this.own + this.childNodes.map((c) => c.textContent).join('');
	}
	set textContent(v) { this.own = String(v); this.childNodes = []; }
	appendChild(c) { this.childNodes.push(c); c.parentNode = this; return c; }
	replaceChild(a, b) {
		const i = this.childNodes.indexOf(b);
		if (i !== -1)
			this.childNodes[i] = a;
		return b;
	}
	setAttribute(k, v) { this.attrs[k] = String(v); }
	getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
	removeAttribute(k) { delete this.attrs[k]; }
	addEventListener() {}
	focus() {}
	getElementsByTagName() { return []; }
	querySelector() { return null; }
}

// A Storage that records every use.
function storage(name, events, map) {
	return {
		getItem(k) { events.push({ what: 'storage', name, op: 'get', k }); return map.has(k) ? map.get(k) : null; },
		setItem(k, v) { events.push({ what: 'storage', name, op: 'set', k, v: String(v) }); map.set(k, String(v)); },
		removeItem(k) { events.push({ what: 'storage', name, op: 'remove', k }); map.delete(k); },
		clear() { events.push({ what: 'storage', name, op: 'clear' }); map.clear(); },
		key() { return null; },
		get length() { return map.size; }
	};
}

const CONTEXT = {
	installed_app_id: 'instapp_1', instance_id: 'inst_1',
	granted_permissions: ['data:read'], ignored_permissions: [],
	not_granted_permissions: ['data:write', 'alerts:read', 'alerts:write'],
	expires_at: '2030-01-01T00:00:00Z', expires_in: 600
};

// run(address, opts): the script's run in a fresh fake window opened at
// address ("/path?query#hash").  opts.session: the tab's sessionStorage
// contents (a Map, shared between runs as across a reload);
// opts.answer(path): {status, body} for a fetch, or null for one that
// never answers.  Resolves to what it did, in order, once it settles.
async function run(address, opts) {
	opts = opts || {};
	const u = new URL(address, 'https://app.test');
	const events = [];
	const timers = [];
	const session = opts.session || new Map();
	const location = { pathname: u.pathname, search: u.search, hash: u.hash };
	const elements = {};
	const window = {
		location,
		history: {
			replaceState(state, title, url) {
				events.push({ what: 'replaceState', url: String(url) });
				const v = new URL(String(url), 'https://app.test');
				location.pathname = v.pathname;
				location.search = v.search;
				location.hash = v.hash;
			},
			pushState(state, title, url) {
				events.push({ what: 'pushState', url: String(url) });
			}
		},
		fetch(path, init) {
			events.push({ what: 'fetch', path, init,
			    address: location.pathname + location.search + location.hash });
			const a = opts.answer ? opts.answer(path, init) : null;
			if (a === null)
				return new Promise(() => {});	// never answers
			return Promise.resolve({ ok: a.status < 300, status: a.status,
			    text: () => Promise.resolve(JSON.stringify(a.body)) });
		},
		document: {
			readyState: 'complete',
			getElementById(id) { return elements[id] || (elements[id] = new El('div')); },
			createElement: (t) => new El(t),
			createTextNode: (t) => ({ textContent: String(t) }),
			addEventListener() {}
		},
		sessionStorage: storage('sessionStorage', events, session),
		addEventListener(type) { events.push({ what: 'listen', type }); },
		setTimeout(fn, ms) { timers.push(fn); return timers.length; },
		clearTimeout() {},
		URLSearchParams, URL, Promise, JSON, Array, Object, String
	};
	Object.defineProperty(window, 'localStorage', {
		get() { events.push({ what: 'localStorage' }); return storage('localStorage', events, new Map()); }
	});
	Object.defineProperty(window.document, 'cookie', {
		get() { events.push({ what: 'cookie' }); return ''; },
		set(v) { events.push({ what: 'cookie', value: v }); }
	});
	window.window = window;
	vm.runInNewContext(source, window, { filename: 'app.js' });
	const settle = () => new Promise((r) => setImmediate(r));
	for (let i = 0; i < 10; i++)
		await settle();
	// fire(): run the timers set so far (the expiry's, for one), settle.
	const fire = async () => {
		timers.splice(0).forEach((f) => f());
		for (let i = 0; i < 10; i++)
			await settle();
	};
	return { events, location, elements, session, fire };
}

const first = (events, pred) => events.findIndex(pred);
const isFetch = (e) => e.what === 'fetch';
const KEY = 'stripe-sync.session';
const ctxAnswer = (extra) => (path) =>
	path === '/api/v1/context' ? { status: 200, body: Object.assign({}, CONTEXT, extra) } : null;
const noForbidden = (events) => !events.some((e) => e.what === 'localStorage' ||
    e.what === 'cookie' || e.what === 'pushState');

const TOK = 'tok.en-value_123';

(async () => {
	for (const [address, want] of [
		['/?token=' + TOK, '/'],
		['/?a=1&token=' + TOK + '&b=two#frag', '/?a=1&b=two#frag'],
		['/sub/index.html?token=' + TOK + '#x', '/sub/index.html#x']
	]) {
		const { events, location, session } = await run(address);
		const r = first(events, (e) => e.what === 'replaceState');
		const f = first(events, isFetch);
		const s = first(events, (e) => e.what === 'storage' && e.op === 'set');
		const rs = events.filter((e) => e.what === 'replaceState');
		ok(rs.length === 1 && rs[0].url === want,
		    address + ': history.replaceState once, to ' + want, rs);
		ok(r !== -1 && f !== -1 && r < f,
		    address + ': the address bar is cleaned before the first fetch', events);
		ok(f !== -1 && !events[f].address.includes('token=') &&
		    !events[f].address.includes(TOK),
		    address + ': no token in the address when the API is called', events[f]);
		ok(!(location.pathname + location.search + location.hash).includes(TOK),
		    address + ': no token left in the address', location);
		ok(f !== -1 && events[f].path === '/api/v1/context' &&
		    events[f].init.headers.Authorization === 'Bearer ' + TOK &&
		    events[f].init.credentials === 'omit' &&
		    events[f].init.referrerPolicy === 'no-referrer' &&
		    !String(events[f].path).includes(TOK),
		    address + ': the token goes only in the Authorization header, no cookies, no referrer', events[f]);
		ok(s !== -1 && events[s].name === 'sessionStorage' && events[s].v === TOK &&
		    session.get(KEY) === TOK && session.size === 1,
		    address + ': the token is kept in this tab\'s sessionStorage only', events);
		ok(noForbidden(events),
		    address + ': no localStorage, no cookie, no new history entry', events);
	}

	{
		// A reload of the same tab: no token in the address, one in storage.
		const session = new Map([[KEY, TOK]]);
		const { events } = await run('/#/transactions', { session, answer: ctxAnswer() });
		const f = first(events, isFetch);
		ok(f !== -1 && events[f].init.headers.Authorization === 'Bearer ' + TOK &&
		    first(events, (e) => e.what === 'replaceState') === -1,
		    'a reload: the session comes from sessionStorage, the address is left alone', events);
		ok(session.get(KEY) === TOK && noForbidden(events),
		    'a reload: the token stays in sessionStorage, nothing else is touched', events);
	}

	{
		// A new launch in the same tab replaces the old session.
		const session = new Map([[KEY, 'old-token']]);
		const { events } = await run('/?token=' + TOK, { session, answer: ctxAnswer() });
		const f = first(events, isFetch);
		ok(f !== -1 && events[f].init.headers.Authorization === 'Bearer ' + TOK &&
		    session.get(KEY) === TOK,
		    'a new launch link replaces the stored token', events);
	}

	for (const [status, code, ends] of [
		[401, 'SESSION_EXPIRED', true], [401, 'TOKEN_INVALID', true],
		[403, 'APP_UNINSTALLED', true], [403, 'SESSION_REVOKED', true],
		[502, 'CLOUD_UNREACHABLE', false], [503, 'DATABASE_UNAVAILABLE', false]
	]) {
		const session = new Map();
		const { elements } = await run('/?token=' + TOK, { session,
		    answer: () => ({ status, body: { error: { code, message: 'm' } } }) });
		ok(ends ? !session.has(KEY) : session.get(KEY) === TOK,
		    code + ': the stored token is ' + (ends ? 'deleted' : 'kept'),
		    [...session]);
		ok(elements['problem'] && elements['problem'].hidden === false &&
		    elements['problem-code'].textContent.includes(code),
		    code + ': the page says so', elements['problem-code']);
	}

	{
		// The expiry passes while the page is open.
		const session = new Map();
		const { elements, fire } = await run('/?token=' + TOK, { session,
		    answer: ctxAnswer({ expires_in: 1 }) });
		ok(session.get(KEY) === TOK && elements['session'].textContent.includes('launch the app again from Blnk Cloud'),
		    'the expiry is shown with what to do then', elements['session'].textContent);
		await new Promise((r) => setTimeout(r, 1100));
		await fire();
		ok(!session.has(KEY) && elements['problem'].hidden === false &&
		    /expired/i.test(elements['problem-title'].textContent),
		    'at the expiry the token is deleted and the page says to launch again',
		    [[...session], elements['problem-title'].textContent]);
	}

	{
		const { events, elements } = await run('/?a=1');
		ok(first(events, isFetch) === -1 && first(events, (e) => e.what === 'replaceState') === -1,
		    'without a token: no fetch, the address is left alone', events);
		ok(elements['problem'] && elements['problem'].hidden === false &&
		    /launch link/.test(elements['problem-title'].textContent),
		    'without a token: it says the page needs a launch link',
		    elements['problem-title']);
		ok(noForbidden(events), 'without a token: no localStorage, no cookie', events);
	}

	console.log('1..' + n);
	process.exit(failed ? 1 : 0);
})().catch((e) => {
	console.log('not ok - portal-token.js: ' + e.stack);
	process.exit(1);
});
