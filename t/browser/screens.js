'use strict';
/*
 * t/browser/screens.js SCENARIO: every screen of the portal in Debian's
 * Chromium (playwright-core), for t/t8300-portal-screens.sh.  Exits 0 when
 * the scenario holds, 1 with a message when it does not.
 *
 * Environment: APP (the app's https origin), SIM (the simulator's origin),
 * ID (installed_app_id), OUT (the screenshot folder), SIZE (480: the
 * simulator's launch page frames the portal in a 480x800 window; 1280: the
 * portal in a 1280x800 tab of its own), BAL1 and BAL2 (the seeded
 * balances), and for "session" URL and CODE.
 *
 * On every screen: axe-core (from node_modules, served to the page on its
 * own origin so the page's CSP allows it) must find no violation of
 * serious or critical impact, and the page must report no CSP violation.
 */
const { env, check, sim, open, shot, screen, stored, text, loaded, moved,
    nav, run } = require('./screens-lib');

async function overview(p, want) {
	await p.t.waitForSelector('#context:not([hidden])', { timeout: 10000 });
	const rows = await p.t.$$eval('#permissions li', (lis) =>
	    lis.map((li) => li.querySelector('.scope').textContent + '=' +
	    li.querySelector('.state').textContent));
	for (const w of want)
		check(rows.includes(w), `permission ${w} not shown: ${rows}`);
	check(/launch the app again from Blnk Cloud/.test(await text(p.t,
	    '#session')), 'no expiry with its next step');
	check(!p.t.url().includes('token='), 'the token is in the address');
}

const scenarios = {
	/* Full scopes on the seeded instance. */
	async tour(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, ['data:read=Granted', 'data:write=Granted',
		    'alerts:write=Granted', 'alerts:read=Granted']);
		await screen(p, e, 'overview');

		await nav(p, 'ledgers');
		await loaded(p);
		check((await text(p.t, '#screen .rows')).includes('Stripe USD'),
		    'the seeded ledger is not listed');
		await screen(p, e, 'ledgers');
		await p.t.click('#screen .rows a:has-text("Stripe USD")');
		await loaded(p);
		await screen(p, e, 'ledger');
		await p.t.click('text=Balances in this ledger');
		await loaded(p);
		check(await p.t.locator('#screen .rows li').count() === 2,
		    'the ledger\'s two balances are not listed');
		check(p.t.url().includes('ledger_id='), 'the filter is not in the address');
		await screen(p, e, 'balances');

		await p.t.click(`#screen .rows a[href$="${e.BAL1}"]`);
		await loaded(p);
		check((await text(p.t, '#screen')).includes('Transactions to this balance'),
		    'no link to the balance\'s transactions');
		await p.t.fill('#flag-title', 'Balance differs from Stripe');
		await p.t.click('#screen form button[type=submit]');
		check((await text(p.t, '#screen .panel')).includes('A description is required'),
		    'flagging without a description is not refused inline');
		await p.t.fill('#flag-description', 'Stripe shows 10.00 more');
		await p.t.click('#screen form button[type=submit]');
		await p.t.waitForSelector('#screen .result.good');
		check(/Flagged for review as ano_/.test(await text(p.t, '#screen .result.good')),
		    'the flag\'s alert id is not shown');
		await screen(p, e, 'balance-flagged');

		await nav(p, 'transactions');
		await loaded(p);
		check(await p.t.locator('#screen .rows li').count() === 20,
		    'the first page does not hold 20 transactions');
		check((await text(p.t, '#screen .pager')).includes('Page 1 of 2'),
		    'no "Page 1 of 2"');
		await screen(p, e, 'transactions');
		await p.t.click('#screen .pager a[rel=next]');
		await loaded(p, false);
		check(p.t.url().includes('page=2'), 'page 2 is not in the address');
		const all = +(await text(p.t, '#screen .load > .hint')).split(' ')[0];
		check(all > 20 && await p.t.locator('#screen .rows li').count() === all - 20,
		    `page 2 does not hold the other ${all - 20}`);
		await shot(p, e, 'transactions-page2');

		/* A filter the server would refuse is refused here, inline. */
		await p.t.click('#screen .filters summary');
		await p.t.fill('#f-source', 'not a balance');
		await moved(p, () => p.t.click('#screen .filters button[type=submit]'));
		check((await text(p.t, '#screen .filters')).includes('a balance id or @indicator'),
		    'a bad source filter has no inline error');
		await screen(p, e, 'transactions-bad-filter');
		await p.t.fill('#f-source', '');
		await p.t.selectOption('#f-status', 'REJECTED');
		await p.t.fill('#f-reference', 'seed-payout_q');
		await moved(p, () => p.t.click('#screen .filters button[type=submit]'));
		check(await p.t.locator('#screen .rows li').count() === 1,
		    'status REJECTED and its reference do not give the one row');
		await p.t.click('#screen .rows a');
		await loaded(p);
		check((await text(p.t, '#screen .facts')).includes('insufficient funds'),
		    'the rejection reason is not shown');
		await screen(p, e, 'transaction-rejected');

		/* A filter with no match: the empty state. */
		await p.t.evaluate(() => { location.hash = '#/transactions?reference=nothing-here'; });
		await loaded(p);
		check((await text(p.t, '#screen .empty')).includes('match these filters'),
		    'no empty state for a filter without match');

		/* Posting: inline validation, then APPLIED, then REJECTED. */
		await nav(p, 'new');
		await loaded(p);
		await p.t.click('#screen button[type=submit]');
		for (const f of ['amount', 'source', 'destination', 'description'])
			check(await p.t.getAttribute(`#t-${f}`, 'aria-invalid') === 'true',
			    `an empty ${f} is not marked invalid`);
		check(await p.t.evaluate(() => document.activeElement.id) === 't-amount',
		    'the first bad field does not get the focus');
		await p.t.fill('#t-amount', '12.50');
		await p.t.fill('#t-reference', 'ends_q');
		await p.t.click('#screen button[type=submit]');
		check((await text(p.t, '#t-amount-err')).includes('whole number'),
		    'a decimal amount is not refused inline');
		check((await text(p.t, '#t-reference-err')).includes('_q'),
		    'a reference ending in _q is not refused inline');
		await screen(p, e, 'new-invalid');
		await p.t.fill('#t-amount', '1250');
		await p.t.fill('#t-reference', '');
		check((await text(p.t, '#amount-shown')).includes('12.50 USD'),
		    'the amount is not shown in units');
		await p.t.fill('#t-source', '@stripe');
		await p.t.fill('#t-destination', e.BAL1);
		await p.t.fill('#t-description', 'Fee correction');
		await p.t.check('#t-overdraft');
		await p.t.click('#screen button[type=submit]');
		await p.t.waitForSelector('#screen .result.good', { timeout: 20000 });
		check((await text(p.t, '#screen .result')).includes('Applied'),
		    'the posting is not followed to APPLIED');
		check((await text(p.t, '#status')).includes('applied'),
		    'the live region does not announce it');
		await screen(p, e, 'new-applied');
		await p.t.fill('#t-amount', '99999999');
		await p.t.fill('#t-source', e.BAL2);
		await p.t.uncheck('#t-overdraft');
		await p.t.click('#screen button[type=submit]');
		await p.t.waitForSelector('#screen .result.bad', { timeout: 20000 });
		check(/Rejected by Blnk: .*insufficient funds/.test(await text(p.t,
		    '#screen .result')), 'the rejection and its reason are not shown');
		await screen(p, e, 'new-rejected');
		await p.t.click('#screen .result a');
		await loaded(p);
		check((await text(p.t, '#screen')).includes('REJECTED'),
		    'the rejected transaction\'s page does not say so');

	},

	/* Read-only scopes on an instance with no data. */
	async empty(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, ['data:read=Granted', 'data:write=Not granted',
		    'alerts:write=Not granted']);
		check((await text(p.t, '#quick')).includes('Needs data:write: reinstall the app from Blnk Cloud and grant it'),
		    'New transaction is not disabled with the reason');
		await screen(p, e, 'ro-overview');
		for (const s of ['balances', 'transactions']) {
			await nav(p, s);
			await loaded(p);
			check((await text(p.t, '#screen .empty')).includes(`No ${s} yet`),
			    `no empty state for ${s}`);
			await screen(p, e, `empty-${s}`);
		}
		await nav(p, 'new');
		await loaded(p);
		check((await text(p.t, '#screen .notice')).includes('Needs data:write: reinstall the app from Blnk Cloud and grant it'),
		    'the form is not replaced by the reason');
		check(await p.t.locator('#screen form').count() === 0, 'a form is offered');
		await screen(p, e, 'ro-new');
	},

	/* Read-only scopes on the seeded instance. */
	async readonly(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, ['data:read=Granted', 'data:write=Not granted']);
		await nav(p, 'transactions');
		await loaded(p);
		check(await p.t.locator('#screen .rows li').count() > 0, 'no rows');
		await p.t.click('#screen .rows a');
		await loaded(p);
		check((await text(p.t, '#screen .panel')).includes('Needs alerts:write'),
		    'flagging is not disabled with the reason');
		check(await p.t.isDisabled('#screen .panel button'),
		    'the flag button is not disabled');
		await screen(p, e, 'ro-transaction');
	},

	/* Alerts, with their answers stubbed in the page (Cloud's shapes, as
	 * t5100 and the simulator give them). */
	async alerts(ctx, e) {
		/* The tour flagged BAL1 at this size: that alert is listed,
		 * opened, and moved to INVESTIGATING, all through the
		 * simulator. */
		const p = await open(ctx, e);
		await overview(p, ['alerts:read=Granted', 'alerts:write=Granted']);
		await nav(p, 'alerts');
		await loaded(p);
		check(await p.t.locator('#screen .rows li').count() >= 1, 'no alert listed');
		check((await text(p.t, '#screen .rows')).includes(e.BAL1),
		    'the flagged balance is not shown in the list');
		await screen(p, e, 'alerts');
		await p.t.locator('#screen .rows a[href*="#/alerts/"]').first().click();
		await loaded(p);
		check((await text(p.t, '#screen .facts')).includes(e.BAL1), 'no target');
		await p.t.selectOption('#alert-status', 'INVESTIGATING');
		await p.t.click('#screen form button[type=submit]');
		await p.t.waitForSelector('#screen .result.good');
		await p.t.evaluate(() => { location.hash = location.hash + '?r=1'; });
		await loaded(p);
		check((await text(p.t, '#screen .facts')).includes('INVESTIGATING'),
		    'the new status is not what Cloud now says');
		await screen(p, e, 'alert');
	},

	/* Each upstream failure's state; Try again recovers. */
	async errors(ctx, e) {
		let fake = null;
		const p = await open(ctx, e, { before: async (page) => {
			await page.route(e.APP + '/api/v1/ledgers*', (route) => {
				if (fake === null)
					return route.continue();
				if (fake === 'abort')
					return route.abort('connectionrefused');
				return route.fulfill({ status: fake[0],
				    contentType: 'application/json', body: JSON.stringify(
				    { error: { code: fake[1], message: 'm' } }) });
			});
		} });
		await overview(p, []);
		const cases = [
			[[403, 'MISSING_PERMISSION'], 'Permission not granted', 'Reinstall the app from Blnk Cloud and grant it'],
			[[502, 'CLOUD_KEY_REVOKED'], 'Instance unavailable', 'Reinstall the app'],
			[[502, 'CLOUD_FORBIDDEN'], 'Instance unavailable', 'Reinstall the app'],
			[[502, 'CLOUD_UNREACHABLE'], 'Blnk Cloud cannot be reached', 'Try again'],
			[[504, 'CLOUD_TIMEOUT'], 'did not answer in time', 'Try again'],
			['abort', 'Cannot reach Stripe Sync', 'Check your connection'],
		];
		for (const [f, title, next] of cases) {
			fake = f;
			await p.t.evaluate(() => { location.hash = '#/ledgers?x=' + Math.random(); });
			await loaded(p, false);
			const n = await text(p.t, '#screen .notice');
			check(n.includes(title) && n.includes(next),
			    `${f}: the notice says "${n}"`);
			await shot(p, e, 'error-' + (f === 'abort' ? 'network' : f[1]));
		}
		fake = null;
		/* Real faults in the simulator: 429 and 500 on every retry. */
		for (const [mode, title] of [['429', 'Blnk Cloud is busy'],
		    ['500', 'Blnk Cloud had a problem']]) {
			await sim(e, '/_sim/faults', { mode, count: 10, paths_prefix: '/data/ledgers' });
			await nav(p, 'overview');
			await nav(p, 'ledgers');
			await loaded(p);
			const n = await text(p.t, '#screen .notice');
			check(n.includes(title), `fault ${mode}: the notice says "${n}"`);
			await screen(p, e, 'error-fault-' + mode);
			await sim(e, '/_sim/faults', { mode: 'none' });
			await p.t.click('#screen .notice button');
			await loaded(p, false);
			check(await p.t.locator('#screen .rows li').count() > 0,
			    `fault ${mode}: Try again does not load the list`);
		}
	},

	/* A reload of the tab keeps the session; nothing outside this tab's
	 * sessionStorage holds the token. */
	async reload(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, []);
		await nav(p, 'transactions');
		await loaded(p);
		await p.page.reload();
		await p.t.waitForSelector('#screen:not([hidden]) .rows li');
		check(!p.page.url().includes('token='), 'the token came back to the address');
		const st = await p.page.evaluate(() => ({
			session: Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)),
			local: localStorage.length, cookie: document.cookie }));
		check(st.session.length === 1 && st.session[0].length > 20,
		    'the token is not in sessionStorage: ' + JSON.stringify(st));
		check(st.local === 0 && st.cookie === '', 'localStorage or a cookie is used');
		/* Another tab does not share it. */
		const other = await ctx.newPage();
		await other.goto(e.APP + '/');
		await other.waitForSelector('#problem:not([hidden])');
		check((await other.textContent('#problem-title')).includes('launch link'),
		    'a new tab has the session');
	},

	/* The clock passes the session's expiry. */
	async expiry(ctx, e) {
		const p = await open(ctx, e, { before: (page) => page.clock.install() });
		await overview(p, []);
		check(/Session ends at .* \(in 1[45] minutes\)/.test(await text(p.t, '#session')),
		    'the expiry is not shown: ' + await text(p.t, '#session'));
		await p.page.clock.fastForward('16:00');
		await p.t.waitForSelector('#problem:not([hidden])');
		check((await text(p.t, '#problem-code')).includes('SESSION_EXPIRED'),
		    'no SESSION_EXPIRED at the expiry');
		check((await text(p.t, '#problem-text')).includes('launch the app again from Blnk Cloud'),
		    'no next step at the expiry');
		check(await stored(p.t) === 0,
		    'the token is kept after the expiry');
		check(await p.t.isHidden('#nav'), 'the nav stays after the expiry');
		await screen(p, e, 'expired');
	},

	/* A session the server refuses at once. */
	async session(ctx, e) {
		const p = await open(ctx, e, { url: env('URL') });
		const t = p.t;
		await t.waitForSelector('#problem:not([hidden])');
		check((await t.textContent('#problem-code')).includes(env('CODE')),
		    'the page does not show ' + env('CODE'));
		check((await t.textContent('#problem-text')).includes('launch the app again from Blnk Cloud'),
		    'no next step');
		check(await stored(t) === 0, 'the token is kept');
		await screen(p, e, 'session-' + env('CODE'));
	},

	/* The app is uninstalled while the portal is open. */
	async uninstalled(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, []);
		await sim(e, '/_sim/uninstall', { installed_app_id: e.ID });
		await nav(p, 'ledgers');
		await p.t.waitForSelector('#problem:not([hidden])');
		check((await text(p.t, '#problem-code')).includes('APP_UNINSTALLED'),
		    'no APP_UNINSTALLED');
		check((await text(p.t, '#problem-text')).includes('Install it again from Blnk Cloud'),
		    'no next step');
		check(await stored(p.t) === 0, 'the token is kept');
		await screen(p, e, 'uninstalled');
	},
};

run('screens.js', scenarios, ['BAL1', 'BAL2']);
