'use strict';
/*
 * t/browser/portal.js SCENARIO: drive the portal in Debian's Chromium
 * (playwright-core, /usr/bin/chromium) for t/t8200-portal-browser.sh.
 * Exits 0 when the scenario holds, 1 with a message when it does not.
 *
 * Environment: APP (the app's https origin), SIM (the simulator's origin),
 * ID (installed_app_id), OUT (a directory for screenshots), and for
 * "session" URL (a portal_url whose session should be refused) and CODE
 * (the error code the page must show).
 *
 * Scenarios:
 *   framed   the simulator's launch page frames the portal; the portal
 *            loads its context, shows the permissions, and removes the
 *            token from its address
 *   tab      the launch page's "Open" link works in a tab of its own
 *   foreign  a page on another origin cannot frame the portal (CSP
 *            frame-ancestors)
 *   session  a refused session shows its code and a next step
 *   buttons  the dashboard's own buttons, clicked for real: Install,
 *            Launch app, Redeliver last event, Uninstall (a browser
 *            posts these forms with its Origin and Sec-Fetch-Site, which
 *            the simulator checks); prints the new installed_app_id
 */
const path = require('path');
const { env, check, launch } = require('./common');




/* Wait for the portal frame of a launch page; returns the Frame. */
async function portalFrame(page, app) {
	for (let i = 0; i < 100; i++) {
		const f = page.frames().find((fr) => fr.url().startsWith(app));
		if (f)
			return f;
		await page.waitForTimeout(50);
	}
	throw new Error('no frame from ' + app + ' on ' + page.url());
}

/* The portal's context view is shown with the install's data. */
async function expectContext(target, id) {
	await target.waitForSelector('#context:not([hidden])',
	    { timeout: 10000 });
	check((await target.textContent('#installed-app-id')).trim() === id,
	    'the portal shows another install id');
	const rows = await target.$$eval('#permissions li', (lis) =>
	    lis.map((li) => li.querySelector('.scope').textContent + '=' +
	    li.querySelector('.state').textContent));
	check(rows.includes('data:read=Granted'), 'data:read not shown as ' +
	    'granted: ' + rows.join(', '));
	check(rows.includes('alerts:read=Not granted'), 'alerts:read not ' +
	    'shown as not granted: ' + rows.join(', '));
}

const scenarios = {
	async framed(page, e) {
		await page.goto(`${e.SIM}/dashboard/launch/${e.ID}`);
		const frame = await portalFrame(page, e.APP);
		await expectContext(frame, e.ID);
		check(!frame.url().includes('token='),
		    'the token is still in the portal address: ' + frame.url());
		await page.screenshot({ path: path.join(e.OUT, 'framed.png') });
	},
	async tab(page, e) {
		await page.goto(`${e.SIM}/dashboard/launch/${e.ID}`);
		const href = await page.getAttribute('a#open', 'href');
		check(href && href.startsWith(e.APP + '/?token='),
		    'no Open link to the portal: ' + href);
		const tab = await page.context().newPage();
		await tab.goto(href);
		await expectContext(tab, e.ID);
		check(!tab.url().includes('token='), 'token left in the tab URL');
	},
	async foreign(page, e) {
		/* Same simulator, other origin: localhost is not 127.0.0.1. */
		const other = e.SIM.replace('127.0.0.1', 'localhost');
		await page.goto(`${other}/dashboard/launch/${e.ID}`);
		await page.waitForTimeout(1500);
		const f = page.frames().find((fr) => fr !== page.mainFrame());
		check(f, 'the launch page has no frame at all');
		let shown = false;
		try {
			shown = await f.isVisible('#context:not([hidden])',
			    { timeout: 500 });
		} catch (err) {
			shown = false;
		}
		check(!shown, 'a foreign origin could frame the portal');
		check(!f.url().startsWith(e.APP) || !shown,
		    'the portal rendered inside a foreign origin');
	},
	async session(page, e) {
		await page.goto(env('URL'));
		await page.waitForSelector('#problem:not([hidden])',
		    { timeout: 10000 });
		const code = await page.textContent('#problem-code');
		check(code.includes(env('CODE')), 'the page shows ' + code +
		    ', want ' + env('CODE'));
		check((await page.textContent('#problem-text')).length > 20,
		    'no next step shown');
		await page.screenshot({ path: path.join(e.OUT, 'session.png') });
	},
	async buttons(page, e) {
		await page.goto(`${e.SIM}/dashboard`);
		/* the newest install: the first row after the header */
		const row = 'section:has(h2:text-is("Installs")) tr:nth-child(2)';
		await Promise.all([page.waitForURL(`${e.SIM}/dashboard`),
		    page.click('form[action="/dashboard/install"] button')]);
		check((await page.textContent(`${row} .st`)).trim() === 'installed',
		    'Install did not install: ' + await page.textContent(row));
		const id = (await page.textContent(`${row} code`)).trim();
		check(id !== e.ID && id.startsWith('instapp_'), 'no new install');
		await page.click(`${row} a:has-text("Launch app")`);
		const frame = await portalFrame(page, e.APP);
		await frame.waitForSelector('#context:not([hidden])',
		    { timeout: 10000 });
		check((await frame.textContent('#installed-app-id')).trim() === id,
		    'the launched portal shows another install');
		await page.goto(`${e.SIM}/dashboard`);
		await Promise.all([page.waitForURL(`${e.SIM}/dashboard`),
		    page.click(`${row} button:has-text("Redeliver last event")`)]);
		check((await page.textContent('main')).includes(
		    `redeliver install event install:${id} -> HTTP 200`),
		    'Redeliver did not redeliver');
		await Promise.all([page.waitForURL(`${e.SIM}/dashboard`),
		    page.click(`${row} button:has-text("Uninstall")`)]);
		check((await page.textContent(`${row} .st`)).trim() ===
		    'uninstalled', 'Uninstall did not uninstall');
		await page.screenshot({ path: path.join(e.OUT, 'buttons.png') });
		console.log(id);
	},
};

async function main() {
	const name = process.argv[2];
	const e = { APP: env('APP'), SIM: env('SIM'), ID: env('ID'),
	    OUT: env('OUT') };
	if (!scenarios[name])
		throw new Error('unknown scenario ' + name);
	const browser = await launch();
	try {
		/* The stack's certificate is self-signed for 127.0.0.1. */
		const context = await browser.newContext({
			ignoreHTTPSErrors: true });
		const page = await context.newPage();
		await scenarios[name](page, e);
	} finally {
		await browser.close();
	}
}

main().then(() => process.exit(0), (err) => {
	console.error('portal.js: ' + err.message);
	process.exit(1);
});
