'use strict';
/*
 * t/browser/screens-lib.js: what the screen-by-screen scripts (screens.js
 * for t8300, sync.js for t8400) share: the portal opened framed by the
 * simulator's launch page at 480 px or in a tab of its own at 1280 px,
 * axe-core and the page's CSP checked on every screen, screenshots, the
 * waits, and the runner that saves what the page showed when a scenario
 * failed.
 *
 * Environment: APP (the app's https origin), SIM (the simulator's origin),
 * ID (installed_app_id), OUT (the screenshot folder), SIZE (480 or 1280).
 */
const fs = require('fs');
const path = require('path');
const { env, check, launch } = require('./common');

const AXE = require.resolve('axe-core/axe.min.js');
const AXE_URL = '/__test__/axe.min.js';

/* The simulator's control API. */
async function sim(e, p, body) {
	const r = await fetch(e.SIM + p, { method: 'POST',
	    headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify(body || {}) });
	const j = await r.json();
	check(r.ok, `${p}: ${r.status} ${JSON.stringify(j)}`);
	return j;
}

/*
 * The portal for install ID: framed by the launch page at 480 px, or in
 * a tab of its own at 1280 px.  Returns {page, t} (t: the frame or page
 * the portal runs in).
 */
async function open(ctx, e, opts) {
	const page = await ctx.newPage();
	const o = opts || {};
	page.csp = [];
	page.on('console', (m) => {
		if (/Content Security Policy|Refused to/.test(m.text()))
			page.csp.push(m.text());
	});
	if (o.before)
		await o.before(page);
	if (o.url) {
		await page.goto(o.url);
		return { page, t: page };
	}
	if (e.SIZE === '480') {
		await page.goto(`${e.SIM}/dashboard/launch/${e.ID}`);
		for (let i = 0; i < 100; i++) {
			const f = page.frames().find((fr) => fr.url().startsWith(e.APP));
			if (f) {
				await f.waitForLoadState();
				return { page, t: f };
			}
			await page.waitForTimeout(50);
		}
		throw new Error('no portal frame on ' + page.url());
	}
	const l = await sim(e, '/_sim/launch', { installed_app_id: e.ID });
	await page.goto(l.portal_url);
	return { page, t: page };
}

/* Save a screenshot: the window as the user sees it (framed), or the
 * whole page (a tab). */
async function shot(p, e, name) {
	await p.page.screenshot({ path: path.join(e.OUT, `${name}-${e.SIZE}.png`),
	    fullPage: e.SIZE !== '480' });
}

/* axe-core on what the portal shows now. */
async function axe(p, e, name) {
	if (!(await p.t.evaluate(() => typeof window.axe !== 'undefined')))
		await p.t.addScriptTag({ url: e.APP + AXE_URL });
	const r = await p.t.evaluate(() => window.axe.run(document,
	    { resultTypes: ['violations'] }));
	const bad = r.violations.filter((v) => v.impact === 'serious' ||
	    v.impact === 'critical');
	/* Every finding, of any impact, beside the screenshots. */
	fs.appendFileSync(path.join(e.OUT, 'axe.txt'), `${name}-${e.SIZE}: ` +
	    (r.violations.length === 0 ? 'no violations\n' : r.violations.map((v) =>
	    `${v.impact} ${v.id}: ` + v.nodes.map((n) => n.target.join(' '))
	    .join(', ')).join('\n  ') + '\n'));
	check(bad.length === 0, `axe on ${name}: ` + bad.map((v) => v.id +
	    ' (' + v.nodes.map((n) => n.target.join(' ')).join(', ') + ')')
	    .join('; '));
	check(p.page.csp.length === 0, 'CSP violations: ' + p.page.csp.join('; '));
}

/* Both, named: one screen looked at. */
async function screen(p, e, name) {
	await axe(p, e, name);
	await shot(p, e, name);
}

/* How many items the portal's sessionStorage holds (0 where the browser
 * denies a third-party frame its storage: the portal then keeps the
 * session in memory). */
const stored = (t) => t.evaluate(() => {
	try {
		return sessionStorage.length;
	} catch (err) {
		return 0;
	}
});

const text = (t, sel) => t.locator(sel).first().innerText();

/* Wait until the current screen has loaded (rows, empty, notice or a
 * detail) and check that its heading has the focus. */
async function loaded(p, focused) {
	await p.t.waitForSelector('#screen:not([hidden]) h2');
	await p.t.waitForFunction(() =>
	    !document.querySelector('#screen [aria-busy="true"]'));
	if (focused !== false) {
		/* The heading takes the focus once the screen has drawn,
		 * which on a busy machine can come a moment after it shows. */
		await p.t.waitForFunction(() => document.activeElement &&
		    document.activeElement.tagName === 'H2', null,
		    { timeout: 5000 }).catch(() => {});
		const tag = await p.t.evaluate(() => document.activeElement &&
		    document.activeElement.tagName);
		check(tag === 'H2', 'the focus is on ' + tag +
		    ', not the screen heading');
	}
}

/*
 * Do what moves to another screen (a click, a submitted filter), then
 * wait for that screen to load: the old screen's heading is marked first,
 * so that the wait cannot end on the screen being left (its hashchange
 * comes a moment after the click).
 */
async function moved(p, act, focused) {
	await p.t.evaluate(() => document.querySelectorAll('#screen h2')
	    .forEach((h) => h.setAttribute('data-left', '1')));
	await act();
	await p.t.waitForSelector('#screen:not([hidden]) h2:not([data-left])');
	await loaded(p, focused);
}

async function nav(p, screenName) {
	await p.t.click(`#nav a[data-screen="${screenName}"]`);
}

/*
 * Run scenarios[argv[2]] in Chromium with a fresh context of the SIZE's
 * viewport; e gets APP, SIM, ID, OUT, SIZE and the names in extra.  When
 * a scenario fails: a screenshot of each page and what the portal said.
 */
function run(script, scenarios, extra) {
	async function main() {
		const name = process.argv[2];
		const e = { APP: env('APP'), SIM: env('SIM'), ID: env('ID'),
		    OUT: env('OUT'), SIZE: env('SIZE') };
		for (const k of extra || [])
			e[k] = process.env[k];
		if (!scenarios[name])
			throw new Error('unknown scenario ' + name);
		fs.mkdirSync(e.OUT, { recursive: true });
		const browser = await launch();
		try {
			/* The stack's certificate is self-signed for 127.0.0.1. */
			const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
			    viewport: { width: +e.SIZE, height: 800 } });
			/* axe-core from node_modules, on the portal's own origin. */
			await ctx.route(e.APP + AXE_URL, (route) => route.fulfill({
			    path: AXE, contentType: 'application/javascript' }));
			try {
				await scenarios[name](ctx, e);
			} catch (err) {
				for (const [i, pg] of ctx.pages().entries()) {
					await pg.screenshot({ path: path.join(e.OUT,
					    `FAILED-${name}-${e.SIZE}-${i}.png`),
					    fullPage: true });
					for (const f of pg.frames())
						if (f.url().startsWith(e.APP))
							console.error(script + ': the portal said: ' +
							    (await f.locator('body').innerText())
							    .replace(/\s+/g, ' '));
				}
				throw err;
			}
		} finally {
			await browser.close();
		}
	}
	main().then(() => process.exit(0), (err) => {
		console.error(script + ': ' + err.message);
		process.exit(1);
	});
}

module.exports = { env, check, sim, open, shot, axe, screen, stored, text,
    loaded, moved, nav, run };
