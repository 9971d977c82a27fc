'use strict';
/*
 * t/browser/sync.js SCENARIO: the portal's Stripe, Settings and Syncs
 * screens in Debian's Chromium (playwright-core) over the whole stack with
 * the Stripe simulator, for t/t8400-portal-sync.sh.  Exits 0 when the
 * scenario holds, 1 with a message when it does not.
 *
 * Environment: as t/browser/screens-lib.js (APP, SIM, ID, OUT, SIZE), and
 * STRIPE (the Stripe simulator), SKEY and LKEY (its test and live keys:
 * typed into the form as a user would paste them, never printed).
 *
 * Scenarios:
 *   tour      (the full install) connect Stripe through the form, a
 *             refused key named at its field, mode and last four only;
 *             settings saved, a bad value refused at its field; Sync now
 *             followed live to Completed in the history and in the run's
 *             page; the four cards; balances matching; disconnect; the
 *             mode-switch confirmation, before and after sending
 *   look      (the full install, after the tour) every screen again with
 *             data, the cards as filters by keyboard
 *   readonly  (an install with data:read only) the write controls hidden
 *             or disabled, each with the reason
 *
 * On every screen: axe-core must find no violation of serious or critical
 * impact, and the page must report no CSP violation.
 */
const { env, check, open, screen, text, loaded, moved, nav, run } =
    require('./screens-lib');

async function overview(p, want) {
	await p.t.waitForSelector('#context:not([hidden])', { timeout: 10000 });
	const rows = await p.t.$$eval('#permissions li', (lis) =>
	    lis.map((li) => li.querySelector('.scope').textContent + '=' +
	    li.querySelector('.state').textContent));
	for (const w of want)
		check(rows.includes(w), `permission ${w} not shown: ${rows}`);
}

/* The Stripe key appears nowhere in the portal: not in its document
 * (attributes, text, the values of its fields), its address or its
 * storage. */
async function keyNowhere(p, key, where) {
	const found = await p.t.evaluate((k) => {
		const s = [document.documentElement.outerHTML, location.href];
		document.querySelectorAll('input, textarea, select')
		    .forEach((i) => s.push(i.value));
		try {
			for (let i = 0; i < sessionStorage.length; i++)
				s.push(sessionStorage.getItem(sessionStorage.key(i)));
			for (let i = 0; i < localStorage.length; i++)
				s.push(localStorage.getItem(localStorage.key(i)));
		} catch (err) {
			/* storage denied to the frame: nothing kept there */
		}
		return s.some((x) => x && x.includes(k));
	}, key);
	check(!found, `the Stripe key is in the page ${where}`);
}

/* Mark the portal's window: a reload would lose the mark. */
const mark = (p) => p.t.evaluate(() => { window.__notReloaded = true; });
const marked = (p) => p.t.evaluate(() => window.__notReloaded === true);

/* The four cards' counts: {All: n, Completed: n, ...}. */
async function cards(p) {
	return p.t.$$eval('#screen .cards a', (as) => Object.fromEntries(
	    as.map((a) => [a.querySelector('.card-label').textContent,
	    +a.querySelector('.card-count').textContent])));
}

async function cardsAre(p, want) {
	const c = await cards(p);
	check(JSON.stringify(c) === JSON.stringify(want),
	    'the cards show ' + JSON.stringify(c) + ', want ' +
	    JSON.stringify(want));
}

/*
 * Watch what sel shows until done(text) holds, every 100 ms, without any
 * reload; returns the distinct texts seen, in order.
 */
async function watch(p, e, sel, done, what, limit) {
	const seen = [];
	const end = Date.now() + (limit || 120000);
	for (;;) {
		let t = '';
		try {
			t = await p.t.locator(sel).first().innerText({ timeout: 500 });
		} catch (err) {
			t = '';
		}
		if (t && seen[seen.length - 1] !== t)
			seen.push(t);
		if (t && done(t))
			break;
		check(Date.now() < end, `${what} did not end: ` + seen.join(' | '));
		await p.t.waitForTimeout(100);
	}
	check(await marked(p), 'the page was reloaded while ' + what);
	/* What was seen, beside the screenshots. */
	require('fs').appendFileSync(require('path').join(e.OUT, 'progress.txt'),
	    `${what}:\n  ` + seen.map((x) => x.replace(/\s+/g, ' ')).join('\n  ') + '\n');
	return seen;
}

/* Submit the key form with key typed in. */
async function typeKey(p, key) {
	await p.t.fill('#stripe-key', key);
	await p.t.click('#screen .key-form button[type=submit]');
}

const scenarios = {
	async tour(ctx, e) {
		const SKEY = env('SKEY'), LKEY = env('LKEY');
		let fake = null;
		const puts = [];
		/* Every GET of the history (lists) and of a run (runs). */
		const lists = [], runs = [];
		const p = await open(ctx, e, { before: (page) => {
		    page.on('request', (r) => {
			const u = new URL(r.url());
			if (r.method() === 'GET' && u.pathname === '/api/v1/syncs')
				lists.push(Date.now());
			else if (r.method() === 'GET' && u.pathname.startsWith('/api/v1/syncs/'))
				runs.push(Date.now());
		    });
		    return page.route(e.APP + '/api/v1/stripe', (route) => {
			const req = route.request();
			if (req.method() === 'PUT')
				puts.push(req.postDataJSON());
			if (req.method() !== 'PUT' || fake === null)
				return route.continue();
			const f = fake;
			fake = null;
			return route.fulfill({ status: f[0],
			    contentType: 'application/json', body: JSON.stringify(
			    { error: { code: f[1], message: 'm' } }) });
		    });
		} });
		await overview(p, ['data:read=Granted', 'data:write=Granted']);
		await mark(p);
		/* How many balance transactions the simulated account holds. */
		const sum = await (await fetch(env('STRIPE') +
		    '/_sim/summary?mode=test')).json();
		const total = sum.counts.balance_transactions;
		check(total > 0, 'the simulated Stripe account is empty');

		/* Stripe: not connected; keys refused at the field. */
		await nav(p, 'stripe');
		await loaded(p);
		check((await text(p.t, '#screen .conn')).includes('Not connected'),
		    'the connection is not shown as missing');
		check(await p.t.getAttribute('#stripe-key', 'type') === 'password' &&
		    await p.t.getAttribute('#stripe-key', 'autocomplete') === 'off',
		    'the key field is not a password field without autocomplete');
		await screen(p, e, 'stripe-none');
		await p.t.click('#screen .key-form button[type=submit]');
		check((await text(p.t, '#stripe-key-err')).includes('Paste a Stripe key'),
		    'an empty key is not refused at its field');
		await typeKey(p, 'pk_test_0123456789abcdef');
		check((await text(p.t, '#stripe-key-err')).includes('publishable'),
		    'a publishable key is not refused at its field');
		check(puts.length === 0, 'a key the form refuses was sent');

		/* Stripe timing out: said, and the field is cleared. */
		fake = [504, 'STRIPE_TIMEOUT'];
		await typeKey(p, SKEY);
		await p.t.waitForSelector('#screen .result.bad');
		check((await text(p.t, '#screen .result.bad')).includes(
		    'Stripe did not answer in time'), 'no state for STRIPE_TIMEOUT');
		check(await p.t.inputValue('#stripe-key') === '',
		    'the key is left in the field after a failed call');

		/* A key Stripe does not know: refused, named at the field. */
		const bad = 'sk_test_' + 'Zz9Yy8Xx7'.repeat(3);
		await typeKey(p, bad);
		await p.t.waitForSelector('#stripe-key-err:not([hidden])');
		await p.t.waitForSelector('#screen .result.bad');
		check((await text(p.t, '#stripe-key-err')).includes(
		    'Stripe does not accept this key'), 'the refusal is not at the field');
		check(await p.t.getAttribute('#stripe-key', 'aria-invalid') === 'true',
		    'the key field is not marked invalid');
		check((await text(p.t, '#screen .result.bad')).includes(
		    'Stripe refused the key'), 'no notice for STRIPE_KEY_INVALID');
		check(await p.t.inputValue('#stripe-key') === '',
		    'the refused key is left in the field');
		await keyNowhere(p, bad, 'after a refusal');
		await screen(p, e, 'stripe-refused');

		/* The simulator's key: mode and last four, nothing more. */
		await typeKey(p, SKEY);
		await p.t.waitForSelector('#screen .result.good');
		const conn = await text(p.t, '#screen .conn');
		check(conn.includes('Test mode') && conn.includes('Secret key ending in ' +
		    SKEY.slice(-4)), 'the connection is not shown: ' + conn);
		check(puts[puts.length - 1].api_key === SKEY &&
		    !('confirm_mode_switch' in puts[puts.length - 1]),
		    'the PUT body is not the key alone');
		check(await p.t.inputValue('#stripe-key') === '', 'the key stays in the field');
		await keyNowhere(p, SKEY, 'once connected');
		await screen(p, e, 'stripe-connected');

		/* A live key on a test-mode connection: asked before sending. */
		const sent = puts.length;
		await typeKey(p, LKEY);
		await p.t.waitForSelector('#screen .confirm button:text-is("Switch to live mode")');
		check(puts.length === sent, 'the live key was sent before the switch was confirmed');
		check(await p.t.evaluate(() => document.activeElement.textContent) ===
		    'Switch to live mode', 'the confirmation does not take the focus');
		check((await text(p.t, '#screen .confirm')).includes('same Blnk balances'),
		    'the confirmation does not say what the switch means');
		await screen(p, e, 'stripe-switch');
		await p.t.click('#screen .confirm button:text-is("Cancel")');
		check(await p.t.inputValue('#stripe-key') === '', 'Cancel keeps the key in the field');
		check(puts.length === sent, 'Cancel sent the key');
		check((await text(p.t, '#screen .conn')).includes('Test mode'), 'the mode changed');
		await keyNowhere(p, LKEY, 'after Cancel');

		/* Settings: explained, a bad value refused at its field, saved. */
		await nav(p, 'settings');
		await loaded(p);
		check(await p.t.inputValue('#s-mapping-stripe-balance') === '@stripe',
		    'the Stripe balance is not shown');
		check(await p.t.isChecked('#s-import-payins') &&
		    !(await p.t.isChecked('#s-overdraft-payins')), 'the defaults are not shown');
		const st = await text(p.t, '#screen form');
		for (const w of ['-100.00 here means Stripe holds 100.00',
		    'no longer matches Stripe', 'opening balance', 'Fixed once the first sync',
		    'go below zero'])
			check(st.includes(w), `the settings do not explain "${w}"`);
		await screen(p, e, 'settings');
		check(await p.t.isHidden('#s-mapping-payin-balance'), 'an unused field is shown');
		await p.t.selectOption('#s-mapping-payins', 'fixed');
		check(await p.t.isVisible('#s-mapping-payin-balance') &&
		    await p.t.isHidden('#s-mapping-customer-prefix'),
		    'choosing a fixed pay-in balance does not show its field');
		await p.t.selectOption('#s-mapping-payins', 'customer');
		await p.t.fill('#s-schedule-minutes', '3');
		await p.t.click('#screen form button[type=submit]');
		check((await text(p.t, '#s-schedule-minutes-err')).includes('5 to 1440'),
		    'a schedule of 3 minutes is not refused at its field');
		await p.t.fill('#s-schedule-minutes', '0');
		await p.t.fill('#s-mapping-fees', '@stripe');
		await p.t.click('#screen form button[type=submit]');
		await p.t.waitForSelector('#s-mapping-fees-err:not([hidden])');
		check((await text(p.t, '#s-mapping-fees-err')).includes('Must differ from'),
		    'the server\'s refusal is not at the fees field: ' +
		    await text(p.t, '#s-mapping-fees-err'));
		check(await p.t.evaluate(() => document.activeElement.id) === 's-mapping-fees',
		    'the refused field does not get the focus');
		check((await text(p.t, '#screen .result.bad')).includes('Not accepted'),
		    'no notice for the refusal');
		await screen(p, e, 'settings-refused');
		await p.t.fill('#s-mapping-fees', '@stripe-fees');
		await p.t.fill('#s-mapping-guest-balance', '@stripe-guests-2');
		await p.t.click('#screen form button[type=submit]');
		await p.t.waitForSelector('#screen .result.good');
		check(await p.t.isHidden('#s-mapping-fees-err'), 'the old error stays');
		await nav(p, 'overview');
		await nav(p, 'settings');
		await loaded(p);
		check(await p.t.inputValue('#s-mapping-guest-balance') === '@stripe-guests-2',
		    'the saved value is not what the server now holds');

		/* Syncs: none yet; Sync now by keyboard, followed in the list. */
		await nav(p, 'syncs');
		await loaded(p);
		await cardsAre(p, { All: 0, Completed: 0, 'In progress': 0, Failed: 0 });
		check((await text(p.t, '#screen .empty')).includes('No syncs yet'),
		    'no empty history');
		await screen(p, e, 'syncs-none');
		await p.t.selectOption('#sync-kind', 'all');
		await p.t.focus('#sync-kind');
		await p.page.keyboard.press('Tab');
		check(await p.t.evaluate(() => document.activeElement.textContent) ===
		    'Sync now', 'Tab does not reach Sync now');
		const from = lists.length;
		await p.page.keyboard.press('Enter');
		const seen = await watch(p, e, '#screen .runs li:first-child',
		    (t) => /Completed|Failed/.test(t), 'the first sync');
		/* Refreshed every 1.5 s or so, one at a time; not once it ended. */
		const gaps = lists.slice(from).map((t, i, a) => i ? t - a[i - 1] : null)
		    .slice(1);
		check(gaps.length >= 2 && Math.min(...gaps) >= 1000, 'the history was not ' +
		    'refreshed every 1.5 s, one refresh at a time: gaps ' + gaps.join(', '));
		const ended = lists.length;
		await p.t.waitForTimeout(2500);
		check(lists.length === ended, 'the history is still refreshed after the run ended');
		const last = seen[seen.length - 1];
		check(last.includes('Full sync') && last.includes('Completed'),
		    'the sync did not complete: ' + seen.join(' | '));
		check(seen.some((t) => /Running|Queued/.test(t)), 'the run was never shown ' +
		    'in progress: ' + seen.join(' | '));
		check(seen.some((t) => /Listing from Stripe: \d+ found|Posting to Blnk|Confirming: \d+ of/
		    .test(t)), 'no progress with counts was shown: ' + seen.join(' | '));
		check(new RegExp(`\\b${total} found \u00b7 ${total} imported\\b`).test(last),
		    'the completed run does not show its counts: ' + last);
		await cardsAre(p, { All: 1, Completed: 1, 'In progress': 0, Failed: 0 });
		check(/Full sync completed/.test(await text(p.t, '#status')),
		    'the end is not announced');
		await screen(p, e, 'syncs-one');

		/* The run's page: counters, balances matching, no problems. */
		await moved(p, () => p.t.click('#screen .runs a'));
		check((await text(p.t, '#screen h2')).includes('Full sync'), 'not the run');
		check((await text(p.t, '#screen .counter-found .counter-n')) === String(total) &&
		    (await text(p.t, '#screen .counter-imported .counter-n')) === String(total),
		    'the counters are not shown');
		const bals = await p.t.locator('#screen .balances li').allInnerTexts();
		check(bals.length >= 1 && bals.every((b) => /Stripe holds -?\d+(\.\d+)? [A-Z]{3}; Blnk's @stripe shows -?\d+(\.\d+)? [A-Z]{3}\./
		    .test(b) && /\bmatches\b/.test(b)), 'the balances do not match: ' + bals.join(' | '));
		check((await text(p.t, '#screen .problems, #screen h3:text-is("Problems") + div'))
		    .includes('None'), 'problems are listed');
		await screen(p, e, 'run');

		/* New activity; a pay-in sync followed on its own page. */
		const act = await fetch(env('STRIPE') + '/_sim/activity', { method: 'POST',
		    headers: { 'Content-Type': 'application/json' },
		    body: JSON.stringify({ count: 250 }) });
		check(act.ok, 'the Stripe simulator made no activity');
		await moved(p, () => nav(p, 'syncs'));
		await p.t.selectOption('#sync-kind', 'payins');
		await p.t.click('#screen .sync-now button[type=submit]');
		await p.t.waitForSelector('#screen .result.good a');
		await moved(p, () => p.t.click('#screen .result.good a'), false);
		const left = lists.length;
		const live = await watch(p, e, '#run-live', (t) => /completed|failed/.test(t),
		    'the pay-in sync');
		check(lists.length === left, 'the history is still refreshed on the run\'s page');
		const done = runs.length;
		await p.t.waitForTimeout(2500);
		check(runs.length === done, 'the run is still refreshed after it ended');
		check(/Pay-in sync completed: \d+ found/.test(live[live.length - 1]),
		    'the pay-in sync did not complete: ' + live.join(' | '));
		check(live.length >= 2, 'the live region did not follow the run: ' +
		    live.join(' | '));
		check((await text(p.t, '#screen h2')).includes('Pay-in sync'), 'not the run');
		if (await p.t.locator('#screen .balances li.differs').count() > 0)
			check((await text(p.t, '#screen .balances-partial')).includes(
			    'did not import every kind'), 'the differing balances are not explained');
		await screen(p, e, 'run-payins');
		await moved(p, () => p.t.click('#screen .crumbs a'));
		await cardsAre(p, { All: 2, Completed: 2, 'In progress': 0, Failed: 0 });

		/* Disconnect, confirmed first. */
		await nav(p, 'stripe');
		await loaded(p);
		await p.t.click('#screen button:text-is("Disconnect Stripe")');
		check(await p.t.evaluate(() => document.activeElement.textContent) ===
		    'Keep it connected', 'the safe answer does not take the focus');
		await screen(p, e, 'stripe-disconnect');
		await p.t.click('#screen button:text-is("Keep it connected")');
		check((await text(p.t, '#screen .conn')).includes('Connected'), 'disconnected anyway');
		await p.t.click('#screen button:text-is("Disconnect Stripe")');
		await p.t.click('#screen button:text-is("Yes, disconnect")');
		await p.t.waitForSelector('#screen .conn:has-text("Not connected")');

		/* A live key after test-mode imports: the server asks; the key
		 * was not kept, so it is pasted again to switch. */
		await typeKey(p, LKEY);
		await p.t.waitForSelector('#screen .confirm button:text-is("Switch to live mode")');
		check((await text(p.t, '#screen .confirm')).includes('paste it again'),
		    'the confirmation does not ask for the key again');
		check(await p.t.inputValue('#stripe-key') === '', 'the key stays in the field');
		await keyNowhere(p, LKEY, 'while asking to switch');
		await p.t.fill('#stripe-key', LKEY);
		await p.t.click('#screen .confirm button:text-is("Switch to live mode")');
		await p.t.waitForSelector('#screen .result.good');
		check((await text(p.t, '#screen .conn')).includes('Live mode') &&
		    (await text(p.t, '#screen .conn')).includes('ending in ' + LKEY.slice(-4)),
		    'not connected in live mode');
		check(puts[puts.length - 1].confirm_mode_switch === true,
		    'the switch was not confirmed to the server');
		/* And back to test mode, confirmed before sending. */
		await typeKey(p, SKEY);
		await p.t.click('#screen .confirm button:text-is("Switch to test mode")');
		await p.t.waitForSelector('#screen .conn:has-text("Test mode")');
		await keyNowhere(p, SKEY, 'at the end');
		await keyNowhere(p, LKEY, 'at the end');
		check(await marked(p), 'the page was reloaded');
	},

	async look(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, ['data:write=Granted']);
		check((await text(p.t, '#quick')).includes('Syncs'), 'no Syncs action');
		await nav(p, 'stripe');
		await loaded(p);
		check((await text(p.t, '#screen .conn')).includes('Test mode'), 'not connected');
		await screen(p, e, 'stripe');
		await nav(p, 'settings');
		await loaded(p);
		await screen(p, e, 'settings');
		await nav(p, 'syncs');
		await loaded(p);
		await cardsAre(p, { All: 2, Completed: 2, 'In progress': 0, Failed: 0 });
		check(await p.t.locator('#screen .runs li').count() === 2, 'not two runs');
		await screen(p, e, 'syncs');
		/* The cards filter, by keyboard. */
		await p.t.focus('#screen .cards a[data-key="card-failed"]');
		await moved(p, () => p.page.keyboard.press('Enter'));
		check(p.t.url().includes('status=failed'), 'the filter is not in the address');
		check((await text(p.t, '#screen .empty')).includes('No failed syncs'),
		    'no empty state for failed');
		check(await p.t.getAttribute('#screen .cards a[data-key="card-failed"]',
		    'aria-current') === 'true', 'the chosen card is not marked');
		await screen(p, e, 'syncs-failed');
		await moved(p, () => p.t.click('#screen .cards a[data-key="card-completed"]'));
		check(await p.t.locator('#screen .runs li').count() === 2, 'not two completed');
		await moved(p, () => p.t.click('#screen .runs a:has-text("Full sync")'));
		check((await text(p.t, '#screen .balances')).includes('matches'), 'no balances');
		await screen(p, e, 'run');
	},

	async readonly(ctx, e) {
		const p = await open(ctx, e);
		await overview(p, ['data:read=Granted', 'data:write=Not granted']);
		const why = 'Needs data:write: reinstall the app from Blnk Cloud and grant it';

		await nav(p, 'stripe');
		await loaded(p);
		check(await p.t.locator('#screen input').count() === 0, 'a key field is offered');
		check((await text(p.t, '#screen')).includes(why), 'no reason for no key field');
		check(await p.t.locator('#screen button:not([disabled])').count() === 0,
		    'a Stripe button is enabled');
		await screen(p, e, 'ro-stripe');

		await nav(p, 'settings');
		await loaded(p);
		check(await p.t.isDisabled('#s-mapping-fees') &&
		    await p.t.isDisabled('#s-import-payins') &&
		    await p.t.isDisabled('#screen button[type=submit]'),
		    'the settings can be changed');
		check((await text(p.t, '#screen')).includes(why), 'no reason for read-only settings');
		check(await p.t.inputValue('#s-mapping-stripe-balance') === '@stripe',
		    'the settings are not shown');
		await screen(p, e, 'ro-settings');

		await nav(p, 'syncs');
		await loaded(p);
		check(await p.t.isDisabled('#screen .sync-now button[type=submit]'),
		    'Sync now is enabled');
		check((await text(p.t, '#screen .sync-now')).includes(why),
		    'no reason for the disabled Sync now');
		await cardsAre(p, { All: 0, Completed: 0, 'In progress': 0, Failed: 0 });
		await screen(p, e, 'ro-syncs');
	},
};

run('sync.js', scenarios, ['STRIPE']);
