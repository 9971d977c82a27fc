// t/portal-token.js APP_JS: runs the portal's script under Node with a
// minimal fake window (location, history, fetch, document, storage) and
// checks, without a browser, that it takes the launch token out of the
// address bar before its first API call, keeps the rest of the address,
// sends the token only as "Authorization: Bearer" and stores it nowhere.
// Prints TAP.
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

// run(address): the script's run in a fresh fake window opened at address
// ("/path?query#hash"); returns what it did, in order.
function run(address) {
	const u = new URL(address, 'https://app.test');
	const events = [];
	const location = { pathname: u.pathname, search: u.search, hash: u.hash };
	const element = () => ({
		hidden: false, textContent: '', className: '',
		appendChild() {}
	});
	const elements = {};
	const storage = (name) => new Proxy({}, {
		get(_, k) { events.push({ what: 'storage', name, key: String(k) }); return () => null; },
		set(_, k) { events.push({ what: 'storage', name, key: String(k) }); return true; }
	});
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
			return new Promise(() => {});	// never answers
		},
		document: {
			readyState: 'complete',
			getElementById(id) { return elements[id] || (elements[id] = element()); },
			createElement: element,
			addEventListener() {}
		},
		sessionStorage: storage('sessionStorage'),
		localStorage: storage('localStorage'),
		URLSearchParams, URL, Promise, JSON, Array, Object, String,
		setTimeout, clearTimeout
	};
	Object.defineProperty(window.document, 'cookie', {
		get() { events.push({ what: 'cookie' }); return ''; },
		set(v) { events.push({ what: 'cookie', value: v }); }
	});
	window.window = window;
	vm.runInNewContext(source, window, { filename: 'app.js' });
	return { events, location, elements };
}

function first(events, what) {
	return events.findIndex((e) => e.what === what);
}

const TOK = 'tok.en-value_123';
for (const [address, want] of [
	['/?token=' + TOK, '/'],
	['/?a=1&token=' + TOK + '&b=two#frag', '/?a=1&b=two#frag'],
	['/sub/index.html?token=' + TOK + '#x', '/sub/index.html#x']
]) {
	const { events, location } = run(address);
	const r = first(events, 'replaceState'), f = first(events, 'fetch');
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
	    !String(events[f].path).includes(TOK),
	    address + ': the token goes only in the Authorization header', events[f]);
	ok(!events.some((e) => e.what === 'storage' || e.what === 'cookie' ||
	    e.what === 'pushState'),
	    address + ': no storage, no cookie, no new history entry', events);
}

{
	const { events, elements } = run('/?a=1');
	ok(first(events, 'fetch') === -1 && first(events, 'replaceState') === -1,
	    'without a token: no fetch, the address is left alone', events);
	ok(elements['problem'] && elements['problem'].hidden === false &&
	    /launch link/.test(elements['problem-title'].textContent),
	    'without a token: it says the page needs a launch link',
	    elements['problem-title']);
}

console.log('1..' + n);
process.exit(failed ? 1 : 0);
