'use strict';
/*
 * t/browser/recon.js SCENARIO: the portal's Reconciliations and Problems
 * screens and the Stripe screen's webhook panel in Debian's Chromium
 * (playwright-core) over the whole stack with both simulators, for
 * t/t8500-portal-recon.sh.  Exits 0 when the scenario holds, 1 with a
 * message when it does not.
 *
 * Environment: as t/browser/screens-lib.js (APP, SIM, ID, OUT, SIZE), and
 * TOK (a session of the same install, for the test's own look at the
 * API: what the screens show is checked against the API's answer, read
 * apart from the page; NODE_EXTRA_CA_CERTS names the stack's certificate),
 * WHSEC (a webhook signing secret to type in), GONE, CHANGED and PLANTED
 * (the references planted in Blnk by the test: a posting deleted, one
 * whose amount was changed, one added that Stripe does not know).
 *
 * Scenarios:
 *   clean     (the full install, synced) the form's defaults; bad input
 *             refused at its field, by the page and by the server, with
 *             nothing queued; Reconcile followed live on its own page to
 *             "Everything matches", with the API's counts and totals in
 *             the headline, a chart per currency with no day marked, the
 *             totals matching, no differences
 *   diffs     (after the plants) reconciled again: the headline counts
 *             each kind of difference as the API lists them, the chart
 *             marks exactly the days the API says differ, each row shows
 *             the Stripe id, the reference, both amounts and what to do,
 *             the CSV downloads inside Cloud's frame with a header row
 *             and one row per difference, byte for byte the API's
 *   look      (1280 px, a tab) the history with both, the cards, the
 *             newest opened from the list: the same checks, the CSV
 *   webhook   the Stripe screen's webhook panel: the endpoint URL and the
 *             events; a bad secret refused at its field and not sent; a
 *             secret saved, only its last four back, nowhere in the page;
 *             removed after a confirmation
 *   problems  (an install without alerts:write, with REJECTED postings)
 *             the nav's badge counts the problems not flagged; each
 *             problem with its title, description, time and state in
 *             words
 *   readonly  (data:read only, Stripe not connected) no secret field, its
 *             Save disabled with the reason; Reconcile disabled, saying
 *             Stripe is not connected
 *
 * On every screen: axe-core must find no violation of serious or critical
 * impact, and the page must report no CSP violation.
 */
const fs = require('fs');
const { env, check, sim, open, screen, shot, text, loaded, moved, nav, run } =
    require('./screens-lib');

/* Scroll what sel finds into view (inside Cloud's frame too), so that a
 * screenshot of the window shows it. */
const into = (p, sel) => p.t.evaluate((s) => document.querySelector(s)
    .scrollIntoView({ block: 'start' }), sel);

/* --- the API, read apart from the page ------------------------------ */

async function apiGet(e, p, raw) {
	const r = await fetch(e.APP + p, { headers: {
	    Authorization: 'Bearer ' + env('TOK') } });
	const t = await r.text();
	check(r.ok, `GET ${p}: ${r.status} ${t}`);
	return raw ? t : JSON.parse(t);
}

/* --- what the screens must say, written out here again -------------- */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug',
    'Sep', 'Oct', 'Nov', 'Dec'];
const dayShort = (d) => `${+d.slice(8, 10)} ${MONTHS[+d.slice(5, 7) - 1]}`;
const dayLong = (d) => `${dayShort(d)} ${d.slice(0, 4)}`;
const period = (a, b) => (a === b ? dayLong(b) : (a.slice(0, 4) ===
    b.slice(0, 4) ? dayShort(a) : dayLong(a)) + ' to ' + dayLong(b));
const grouped = (v) => String(v).replace(/^(-?)(\d+)/, (m, s, i) =>
    s + i.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
const amount = (v, cur) => (v === null ? '\u2014' : `${grouped(v)} ${cur}`);
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n) => new Date(Date.now() - n * 86400000).toISOString()
    .slice(0, 10);

/* Each kind: the API's name, and the headline's words, one and many. */
const KINDS = [['missing', 'missing in Blnk', 'missing in Blnk'],
    ['rejected', 'rejected by Blnk', 'rejected by Blnk'],
    ['queued', 'not yet applied in Blnk', 'not yet applied in Blnk'],
    ['amount', 'amount mismatch', 'amount mismatches'],
    ['currency', 'currency mismatch', 'currency mismatches'],
    ['unknown', 'unknown to Stripe', 'unknown to Stripe'],
    ['balance', 'balance that differs', 'balances that differ']];

function headlineClean(rec) {
	const n = rec.counts.stripe;
	const tot = rec.totals.map((t) => `${t.currency} ${grouped(t.stripe)}`);
	const both = tot.length === 1 ? tot[0] : tot.slice(0, -1).join(', ') +
	    ' and ' + tot[tot.length - 1];
	return `Everything matches: ${grouped(n)} Stripe balance ` +
	    `transaction${n === 1 ? '' : 's'} from ${period(rec.from, rec.to)} ` +
	    `equal${n === 1 ? 's' : ''} Blnk's postings: ${both} on both sides.`;
}

function headlineDiffs(rec) {
	const d = rec.differences;
	const parts = KINDS.map(([k, one, many]) => {
		const c = d.filter((x) => x.kind === k).length;
		return c ? `${c} ${c === 1 ? one : many}` : null;
	}).filter(Boolean);
	const n = rec.differences_total;
	return `${grouped(n)} difference${n === 1 ? '' : 's'}: ` +
	    parts.join(', ') + '.';
}

const sentence = (s) => {
	const t = String(s || '').trim();
	const u = t.charAt(0).toUpperCase() + t.slice(1);
	return /[.!?]$/.test(u) ? u : u + '.';
};

/* --- the screens --------------------------------------------------- */

async function overview(p) {
	await p.t.waitForSelector('#context:not([hidden])', { timeout: 10000 });
}

async function cardsAre(p, want) {
	const c = await p.t.$$eval('#screen .cards a', (as) => Object.fromEntries(
	    as.map((a) => [a.querySelector('.card-label').textContent,
	    +a.querySelector('.card-count').textContent])));
	check(JSON.stringify(c) === JSON.stringify(want), 'the cards show ' +
	    JSON.stringify(c) + ', want ' + JSON.stringify(want));
}

/* Follow the reconciliation the page shows until it ends, without a
 * reload; returns what its live region said, in order. */
async function follow(p, e, gets) {
	const seen = [];
	const end = Date.now() + 120000;
	const from = gets.length;
	await p.t.evaluate(() => { window.__notReloaded = true; });
	for (;;) {
		let t = '';
		try {
			t = await p.t.locator('#recon-live').innerText({ timeout: 500 });
		} catch (err) {
			t = '';
		}
		if (t && seen[seen.length - 1] !== t)
			seen.push(t);
		if (/^(Completed|Failed)\.$/.test(t))
			break;
		check(Date.now() < end, 'the reconciliation did not end: ' +
		    seen.join(' | '));
		await p.t.waitForTimeout(100);
	}
	check(await p.t.evaluate(() => window.__notReloaded === true),
	    'the page was reloaded while following the reconciliation');
	/* Refreshed about every 1.5 s, one at a time, and not once it
	 * ended. */
	const gaps = gets.slice(from).map((t, i, a) => (i ? t - a[i - 1] : null))
	    .slice(1);
	check(gaps.every((g) => g >= 1000), 'refreshed faster than every ' +
	    '1.5 s: gaps ' + gaps.join(', '));
	const ended = gets.length;
	await p.t.waitForTimeout(2500);
	check(gets.length === ended, 'still refreshed after it ended');
	fs.appendFileSync(require('path').join(e.OUT, 'progress.txt'),
	    'reconciliation:\n  ' + seen.join('\n  ') + '\n');
	return seen;
}

/* Start one with the form as it is; follow it on its own page. */
async function reconcile(p, e, gets) {
	await p.t.click('#screen .recon-form button[type=submit]');
	await p.t.waitForSelector('#screen .result.good a');
	await moved(p, () => p.t.click('#screen .result.good a'), false);
	const seen = await follow(p, e, gets);
	check(seen.length >= 2 && seen.slice(0, -1).some((t) =>
	    /Waiting to start|Listing Stripe's|Reading Blnk's|Reading Stripe's|Comparing/
	    .test(t)), 'no progress was shown before the end: ' + seen.join(' | '));
	check(seen[seen.length - 1] === 'Completed.', 'the reconciliation did ' +
	    'not complete: ' + seen.join(' | ') + ' ' +
	    await text(p.t, '#screen'));
	return decodeURIComponent(p.t.url().replace(/^.*#\/reconciliations\//, ''));
}

/* The charts against the API's days: one a currency, two lines, a point
 * a day of the period, exactly the differing days marked and labelled. */
async function chartsAgree(p, rec) {
	const curs = [...new Set(rec.totals.map((t) => t.currency))];
	const n = Math.round((Date.parse(rec.to) - Date.parse(rec.from)) /
	    86400000) + 1;
	let marked = 0;
	check(await p.t.locator('#screen .chart-box').count() === curs.length,
	    `not one chart for each of ${curs}`);
	for (const cur of curs) {
		const box = `#screen .chart-box[data-currency="${cur}"]`;
		const bad = rec.days.filter((d) => d.currency === cur && !d.match)
		    .map((d) => d.day).sort();
		const c = await p.t.$eval(box, (b) => {
			const svg = b.querySelector('svg');
			return {
				role: svg.getAttribute('role'),
				label: svg.getAttribute('aria-label'),
				title: svg.querySelector(':scope > title') &&
				    svg.querySelector(':scope > title').textContent,
				lines: [...svg.querySelectorAll('polyline')].map((l) =>
				    [l.getAttribute('class'),
				    l.getAttribute('points').trim().split(/\s+/).length]),
				marks: [...svg.querySelectorAll('.chart-diff')].map((g) =>
				    [g.getAttribute('data-day'),
				    g.querySelector('text').textContent,
				    g.querySelector('rect') !== null]),
				axes: svg.querySelectorAll('.chart-tick').length,
				titles: [...svg.querySelectorAll('.chart-axis-title')]
				    .map((t) => t.textContent),
				legend: b.querySelector('.legend').textContent,
				listed: [...b.querySelectorAll('.diff-days li')].map((li) =>
				    li.getAttribute('data-day')),
			};
		});
		check(c.role === 'img' && c.label && c.label === c.title,
		    `the ${cur} chart has no role=img with a label and a title`);
		check(c.label.includes(cur) && c.label.includes(period(rec.from,
		    rec.to)), `the ${cur} chart's label does not say what it shows: ` +
		    c.label);
		check(c.lines.length === 2 && c.lines.some((l) => /chart-stripe/
		    .test(l[0])) && c.lines.some((l) => /chart-blnk/.test(l[0])),
		    `the ${cur} chart does not draw Stripe and Blnk`);
		check(c.lines.every((l) => l[1] === n), `the ${cur} chart does not ` +
		    `have a point for each of the ${n} days: ${JSON.stringify(c.lines)}`);
		check(c.axes >= 4 && c.titles.includes('Day (UTC)') &&
		    c.titles.includes(`${cur} a day`), `the ${cur} chart's axes are ` +
		    'not labelled');
		check(/Stripe/.test(c.legend) && /Blnk/.test(c.legend),
		    `the ${cur} chart has no legend`);
		check(c.marks.length === bad.length, `the ${cur} chart marks ` +
		    `${c.marks.length} days, the API says ${bad.length} differ`);
		check(JSON.stringify(c.marks.map((m) => m[0]).sort()) ===
		    JSON.stringify(bad), `the ${cur} chart marks ` +
		    JSON.stringify(c.marks.map((m) => m[0])) + ', not ' +
		    JSON.stringify(bad));
		check(c.marks.every((m) => m[1] && m[2]), `a marked day of the ${cur} ` +
		    'chart has no label or no band');
		check(JSON.stringify(c.listed.sort()) === JSON.stringify(bad),
		    `the days listed under the ${cur} chart are not the API's`);
		if (bad.length === 0)
			check(c.label.includes('equal on every day'), `the ${cur} ` +
			    'chart does not say the days are equal: ' + c.label);
		else
			check(c.label.includes(`differ on ${bad.length} day`),
			    `the ${cur} chart does not say how many days differ: ` +
			    c.label);
		marked += c.marks.length;
	}
	return marked;
}

/* The totals, in words, one a currency, as the API says them. */
async function totalsAgree(p, rec) {
	const rows = await p.t.locator('#screen .totals li').allInnerTexts();
	check(rows.length === rec.totals.length, 'not a line for each total');
	rec.totals.forEach((t, i) => {
		const r = rows[i].replace(/\s+/g, ' ');
		check(r.includes(t.currency) && r.includes(`total ${amount(t.stripe,
		    t.currency)}`) && r.includes(`${grouped(t.stripe_count)} ` +
		    'balance transaction'), `the ${t.currency} total is not said: ${r}`);
		check(t.match ? /total the same\./.test(r) && /\bmatches\b/.test(r) :
		    /\bdiffers\b/.test(r) && !/total the same\./.test(r) &&
		    (t.blnk === t.stripe || r.includes(`total ${amount(t.blnk,
		    t.currency)}`)), `the ${t.currency} total does not say ` +
		    `whether it matches: ${r}`);
	});
}

/* The table of differences, row by row, against the API's. */
async function rowsAgree(p, rec) {
	const rows = await p.t.$$eval('#screen table.diffs tbody tr', (trs) =>
	    trs.map((tr) => ({ kind: tr.getAttribute('data-kind'),
	    text: tr.innerText.replace(/\s+/g, ' '),
	    cells: Object.fromEntries([...tr.cells].map((td) =>
	    [td.getAttribute('data-label'), td.innerText.replace(/\s+/g, ' ')
	    .trim()])) })));
	check(rows.length === rec.differences.length, `${rows.length} rows, ` +
	    `the API lists ${rec.differences.length} differences`);
	rec.differences.forEach((d, i) => {
		const r = rows[i], c = r.cells;
		check(r.kind === d.kind, `row ${i} is a ${r.kind}, not a ${d.kind}`);
		if (d.stripe_id)
			check(c['Stripe id'] === d.stripe_id, `row ${i}: Stripe id ` +
			    `${c['Stripe id']}, not ${d.stripe_id}`);
		if (d.reference)
			check(c['Blnk reference'] === d.reference, `row ${i}: reference ` +
			    `${c['Blnk reference']}, not ${d.reference}`);
		if (d.blnk_id)
			check(c['Blnk id'] === d.blnk_id, `row ${i}: Blnk id ` +
			    `${c['Blnk id']}, not ${d.blnk_id}`);
		check(c['Stripe amount'] === amount(d.stripe_amount, d.currency) &&
		    c['Blnk amount'] === amount(d.blnk_amount, d.currency),
		    `row ${i}: amounts ${c['Stripe amount']} / ${c['Blnk amount']}, ` +
		    `not ${d.stripe_amount} / ${d.blnk_amount} ${d.currency}`);
		check(d.action && c['What to do'] === sentence(d.action)
		    .replace(/\s+/g, ' '),
		    `row ${i}: what to do is "${c['What to do']}", not the API's`);
	});
	return rows;
}

/* The CSV: downloaded by the button, the API's bytes, a header and one
 * row a difference. */
async function csvAgrees(p, e, rec) {
	const want = await apiGet(e, `/api/v1/reconciliations/${rec.id}?format=csv`,
	    true);
	const [dl] = await Promise.all([p.page.waitForEvent('download',
	    { timeout: 15000 }), p.t.click('#screen button:text-is("Download CSV")')]);
	check(dl.suggestedFilename() === `${rec.id}.csv`, 'the file is named ' +
	    dl.suggestedFilename());
	const got = fs.readFileSync(await dl.path(), 'utf8');
	fs.writeFileSync(require('path').join(e.OUT, `${rec.id}-${e.SIZE}.csv`),
	    got);
	check(got === want, 'the file is not the API\'s CSV');
	const lines = got.split('\r\n').filter((l) => l !== '');
	check(lines[0] === 'kind,currency,day,stripe_id,reference,blnk_id,' +
	    'stripe_amount,blnk_amount,message,action', 'no header row: ' + lines[0]);
	check(lines.length - 1 === rec.differences_total, `${lines.length - 1} ` +
	    `rows in the CSV, ${rec.differences_total} differences`);
	for (const d of rec.differences)
		check(lines.some((l) => l.startsWith(d.kind + ',') &&
		    (!d.reference || l.includes(d.reference))), 'no CSV row for ' +
		    `the ${d.kind} of ${d.reference}`);
	await p.t.waitForSelector('#screen .csv .result.good');
	check((await text(p.t, '#screen .csv .result.good')).includes(
	    `a header row and ${rec.differences_total} row`),
	    'the page does not say what was saved');
	check(p.page.csp.length === 0, 'CSP violations: ' + p.page.csp.join('; '));
}

/* A finished reconciliation with differences, as the screen shows it. */
async function diffsShown(p, e, id) {
	const rec = await apiGet(e, `/api/v1/reconciliations/${id}`);
	check(rec.status === 'completed' && rec.result === 'differences',
	    'the API does not see differences: ' + JSON.stringify(rec).slice(0, 300));
	for (const k of ['missing', 'amount', 'unknown'])
		check(rec.differences.some((d) => d.kind === k), `the API did not ` +
		    `find the planted ${k}`);
	const h = await text(p.t, '#recon-headline');
	check(h === headlineDiffs(rec), `the headline says "${h}", want ` +
	    `"${headlineDiffs(rec)}"`);
	check(await p.t.getAttribute('#recon-headline', 'class') === 'headline bad',
	    'the headline is not shown as bad news');
	await totalsAgree(p, rec);
	const marked = await chartsAgree(p, rec);
	check(marked >= 2, `only ${marked} days are marked for three plants on ` +
	    'different days');
	const rows = await rowsAgree(p, rec);
	/* The plants, by their references. */
	for (const [k, ref] of [['missing', env('GONE')], ['amount',
	    env('CHANGED')], ['unknown', env('PLANTED')]])
		check(rows.some((r) => r.kind === k && r.cells['Blnk reference'] ===
		    ref), `no ${k} row for ${ref}`);
	return rec;
}

async function cleanShown(p, e, id) {
	const rec = await apiGet(e, `/api/v1/reconciliations/${id}`);
	check(rec.status === 'completed' && rec.result === 'clean',
	    'the API does not find it clean: ' + JSON.stringify(rec).slice(0, 300));
	const h = await text(p.t, '#recon-headline');
	check(h === headlineClean(rec), `the headline says "${h}", want ` +
	    `"${headlineClean(rec)}"`);
	check(await p.t.getAttribute('#recon-headline', 'class') ===
	    'headline good', 'the headline is not shown as good news');
	await totalsAgree(p, rec);
	check(await chartsAgree(p, rec) === 0, 'a day is marked');
	check(await p.t.locator('#screen table.diffs').count() === 0 &&
	    (await text(p.t, '#screen')).includes('None: every Stripe balance ' +
	    'transaction is in Blnk'), 'differences are listed');
	const bals = await p.t.locator('#screen .recon-balances li').allInnerTexts();
	check(bals.length === rec.balances.length && bals.every((b) =>
	    /\bmatches\b/.test(b)), 'the balances do not match: ' + bals.join(' | '));
	return rec;
}

/* The secret appears nowhere in the portal. */
async function secretNowhere(p, s, where) {
	const found = await p.t.evaluate((k) => {
		const all = [document.documentElement.outerHTML, location.href];
		document.querySelectorAll('input, textarea').forEach((i) =>
		    all.push(i.value));
		try {
			for (let i = 0; i < sessionStorage.length; i++)
				all.push(sessionStorage.getItem(sessionStorage.key(i)));
		} catch (err) {
			/* denied to the frame */
		}
		return all.some((x) => x && x.includes(k));
	}, s.slice(6));
	check(!found, `the webhook secret is in the page ${where}`);
}

/*
 * Framed by a page whose iframe sandbox lacks allow-downloads (Blnk
 * Cloud's own frame is not documented): the browser drops the download
 * without a word, and the page says what to do: the CSV is shown to copy.
 */
async function sandboxed(ctx, e, rec) {
	/* The simulator's own launch page (a page of a local address, as
	 * Chromium's local network checks want), its frame then sandboxed
	 * and loaded again: a sandbox applies from the next navigation. */
	const p = await open(ctx, e, { url: `${e.SIM}/dashboard/launch/${e.ID}` });
	await p.page.waitForSelector('#app');
	for (let i = 0; i < 100 && !p.page.frames().some((f) =>
	    f.url().startsWith(e.APP)); i++)
		await p.page.waitForTimeout(50);
	await p.page.frames().find((f) => f.url().startsWith(e.APP))
	    .waitForSelector('#context:not([hidden])');
	const again = p.page.waitForEvent('framenavigated', (f) =>
	    f.url().startsWith(e.APP + '/?token='));
	await p.page.evaluate(() => {
		const f = document.getElementById('app');
		f.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
		f.src = f.getAttribute('src');
	});
	p.t = await again;
	await p.t.waitForLoadState();
	check(await p.page.$eval('#app', (f) => f.sandbox.contains('allow-downloads')) ===
	    false, 'the frame is not sandboxed without downloads');
	await overview(p);
	let downloads = 0;
	p.page.on('download', () => downloads++);
	await moved(p, () => p.t.evaluate((id) => {
		location.hash = '#/reconciliations/' + id;
	}, rec.id), false);
	await p.t.click('#screen button:text-is("Download CSV")');
	await p.t.waitForSelector('#screen .csv .result.good');
	check((await text(p.t, '#screen .csv .result.good')).includes('may not ' +
	    'allow downloads'), 'the page does not say a frame may forbid the ' +
	    'download');
	await p.t.click('#screen button:text-is("Show the CSV")');
	check(await p.t.inputValue('#screen .csv-text textarea') ===
	    (await apiGet(e, `/api/v1/reconciliations/${rec.id}?format=csv`,
	    true)).replace(/\r\n/g, '\n'), 'the CSV shown in the sandboxed ' +
	    'frame is not the API\'s');
	check(downloads === 0, 'the sandbox did not stop the download: the ' +
	    'test no longer shows what it should');
	await into(p, '#screen .csv');
	await screen(p, e, 'recon-csv-sandboxed');
	await p.page.close();
}

const scenarios = {
	async clean(ctx, e) {
		const posts = [], gets = [];
		const p = await open(ctx, e, { before: (page) => {
			page.on('request', (r) => {
				const u = new URL(r.url());
				if (r.method() === 'POST' &&
				    u.pathname === '/api/v1/reconciliations')
					posts.push(r.postDataJSON());
				if (r.method() === 'GET' &&
				    u.pathname.startsWith('/api/v1/reconciliations/'))
					gets.push(Date.now());
			});
		} });
		await overview(p);
		await nav(p, 'reconciliations');
		await loaded(p);
		await cardsAre(p, { All: 0, Completed: 0, 'In progress': 0, Failed: 0 });
		check((await text(p.t, '#screen .empty')).includes('No reconciliations yet'),
		    'no empty history');
		check(await p.t.inputValue('#rc-from') === daysAgo(29) &&
		    await p.t.inputValue('#rc-to') === today() &&
		    await p.t.inputValue('#rc-currency') === '' &&
		    await p.t.getAttribute('#rc-from', 'type') === 'date',
		    'the form does not default to the last 30 days, every currency');
		await screen(p, e, 'recon-none');

		/* Refused by the page, at the field, nothing sent. */
		await p.t.fill('#rc-currency', 'U1');
		await p.t.click('#screen .recon-form button[type=submit]');
		check((await text(p.t, '#rc-currency-err')).includes('Three letters'),
		    'a bad currency is not refused at its field');
		await p.t.fill('#rc-currency', '');
		await p.t.fill('#rc-from', today());
		await p.t.fill('#rc-to', daysAgo(1));
		await p.t.click('#screen .recon-form button[type=submit]');
		check((await text(p.t, '#rc-to-err')).includes('on or after the first day'),
		    'a period that ends before it starts is not refused at its field');
		/* A payout instead: its own field, the period's hidden. */
		await p.t.check('#rc-what-payout');
		check(await p.t.isHidden('#rc-from') && await p.t.isVisible('#rc-payout'),
		    'choosing a payout does not show its field instead of the period');
		await p.t.fill('#rc-payout', 'tr_123');
		await p.t.click('#screen .recon-form button[type=submit]');
		check((await text(p.t, '#rc-payout-err')).includes('po_'),
		    'a transfer id is not refused at the payout field');
		await p.t.check('#rc-what-period');
		check(await p.t.isVisible('#rc-from') && await p.t.isHidden('#rc-payout'),
		    'choosing a period again does not bring its fields back');
		check(posts.length === 0, 'what the form refused was sent');

		/* Refused by the server, at the field, nothing queued. */
		await p.t.fill('#rc-from', daysAgo(29));
		await p.t.fill('#rc-to', today());
		await p.t.fill('#rc-currency', 'zzz');
		await p.t.click('#screen .recon-form button[type=submit]');
		await p.t.waitForSelector('#rc-currency-err:not([hidden])');
		check((await text(p.t, '#rc-currency-err')).includes(
		    'Must be a three-letter currency Stripe settles in'),
		    'the server\'s refusal is not at the currency: ' +
		    await text(p.t, '#rc-currency-err'));
		check(await p.t.getAttribute('#rc-currency', 'aria-invalid') === 'true' &&
		    await p.t.evaluate(() => document.activeElement.id) === 'rc-currency',
		    'the refused field is not marked and focused');
		check((await text(p.t, '#screen .recon-form + .result.bad, #screen .result.bad'))
		    .includes('Not accepted'), 'no notice for the refusal');
		check(posts.length === 1 && posts[0].currency === 'zzz' &&
		    posts[0].from === daysAgo(29) && posts[0].to === today(),
		    'the body sent is not the form: ' + JSON.stringify(posts));
		check((await apiGet(e, '/api/v1/reconciliations')).counts.all === 0,
		    'a refused reconciliation was queued');
		await screen(p, e, 'recon-refused');

		/* The last 30 days, every currency: everything matches. */
		await p.t.fill('#rc-currency', '');
		const id = await reconcile(p, e, gets);
		check(JSON.stringify(posts[1]) === JSON.stringify({ from: daysAgo(29),
		    to: today() }), 'the body sent is not the period: ' +
		    JSON.stringify(posts[1]));
		await cleanShown(p, e, id);
		await into(p, '#recon-headline');
		await screen(p, e, 'recon-clean');
		await into(p, '#screen .chart-box');
		await shot(p, e, 'recon-clean-chart');

		/* Back to the history: one, completed, matching. */
		await moved(p, () => p.t.click('#screen .crumbs a'));
		await cardsAre(p, { All: 1, Completed: 1, 'In progress': 0, Failed: 0 });
		check((await text(p.t, '#screen .recons li')).includes('Everything matches'),
		    'the history does not say it matched');
	},

	async diffs(ctx, e) {
		const gets = [], urls = [];
		const p = await open(ctx, e, { before: (page) => {
			page.on('request', (r) => {
				if (r.url().startsWith(e.APP + '/api/'))
					urls.push(r.url());
				if (r.method() === 'GET' && new URL(r.url()).pathname
				    .startsWith('/api/v1/reconciliations/'))
					gets.push(Date.now());
			});
		} });
		await overview(p);
		await nav(p, 'reconciliations');
		await loaded(p);
		const id = await reconcile(p, e, gets);
		const rec = await diffsShown(p, e, id);
		await into(p, '#recon-headline');
		await screen(p, e, 'recon-diffs');
		await into(p, '#screen .chart-box:has(.chart-diff)');
		await shot(p, e, 'recon-diffs-chart');
		await into(p, '#screen table.diffs');
		await shot(p, e, 'recon-diffs-table');
		/* Cloud's frame lets the file be saved. */
		await csvAgrees(p, e, rec);
		await p.t.click('#screen button:text-is("Show the CSV")');
		/* (A textarea's value has its line breaks as LF.) */
		check(await p.t.inputValue('#screen .csv-text textarea') ===
		    (await apiGet(e, `/api/v1/reconciliations/${id}?format=csv`,
		    true)).replace(/\r\n/g, '\n'), 'the CSV shown is not the file');
		await screen(p, e, 'recon-csv');
		await sandboxed(ctx, e, rec);
		/* The session went as a header, never in an address. */
		check(urls.some((u) => /format=csv/.test(u)) &&
		    urls.every((u) => !/token/i.test(u)), 'a session token in an ' +
		    'API address: ' + urls.filter((u) => /token/i.test(u)).join(' '));
	},

	async look(ctx, e) {
		const p = await open(ctx, e);
		await overview(p);
		const probs = (await apiGet(e, '/api/v1/problems?limit=100')).data;
		const unflagged = probs.filter((x) => ['pending', 'unscoped',
		    'untargeted'].includes(x.state)).length;
		/* The badge is filled when the problems have been read. */
		await p.t.waitForSelector('#problems-count[data-count]',
		    { state: 'attached' });
		check(unflagged === 0 ? await p.t.isHidden('#problems-count') :
		    (await text(p.t, '#problems-count')).includes(String(unflagged)),
		    `the nav's count is not the ${unflagged} problems not flagged`);
		await nav(p, 'reconciliations');
		await loaded(p);
		await cardsAre(p, { All: 2, Completed: 2, 'In progress': 0, Failed: 0 });
		const rows = await p.t.locator('#screen .recons li').allInnerTexts();
		check(rows.length === 2 && /\d+ differences?/.test(rows[0]) &&
		    rows[1].includes('Everything matches'), 'the history is not the ' +
		    'two, newest first: ' + rows.join(' | '));
		check(rows.every((r) => r.includes(period(daysAgo(29), today()) +
		    ', all currencies')), 'the rows do not say the period');
		await screen(p, e, 'recons');
		await moved(p, () => p.t.click('#screen .recons li:first-child a'));
		const id = decodeURIComponent(p.t.url().replace(/^.*#\/reconciliations\//,
		    ''));
		const rec = await diffsShown(p, e, id);
		const th = await p.t.locator('#screen table.diffs th').allInnerTexts();
		check(th.join('|') === 'What|Day|Stripe id|Blnk reference|Blnk id|' +
		    'Stripe amount|Blnk amount|What to do', 'the table\'s columns: ' +
		    th.join('|'));
		check(await p.t.$eval('#screen table.diffs', (t) =>
		    getComputedStyle(t).display === 'table' &&
		    t.tHead.getBoundingClientRect().height > 20),
		    'not laid out as a table, with its head, at 1280 px');
		await screen(p, e, 'recon-diffs');
		await csvAgrees(p, e, rec);
		/* The one that matched, from the history. */
		await moved(p, () => p.t.click('#screen .crumbs a'));
		await moved(p, () => p.t.click('#screen .recons li:nth-child(2) a'));
		await cleanShown(p, e, decodeURIComponent(p.t.url().replace(
		    /^.*#\/reconciliations\//, '')));
		await screen(p, e, 'recon-clean');
	},

	async webhook(ctx, e) {
		const S = env('WHSEC');
		const puts = [], answers = [];
		const p = await open(ctx, e, { before: (page) => {
			page.on('request', (r) => {
				if (r.method() === 'PUT' && new URL(r.url()).pathname ===
				    '/api/v1/stripe/webhook')
					puts.push(r.postDataJSON());
			});
			page.on('response', async (r) => {
				if (new URL(r.url()).pathname === '/api/v1/stripe/webhook')
					answers.push(await r.text());
			});
		} });
		await overview(p);
		await nav(p, 'stripe');
		await loaded(p);
		const panel = '#screen section[aria-labelledby="webhook-title"]';
		check(await text(p.t, '#webhook-url') === e.APP +
		    '/api/stripe/webhook/' + e.ID, 'the endpoint URL is ' +
		    await text(p.t, '#webhook-url'));
		check(JSON.stringify(await p.t.locator(`${panel} .events li`)
		    .allInnerTexts()) === JSON.stringify(['balance.available',
		    'charge.succeeded', 'charge.refunded', 'charge.dispute.*',
		    'payout.paid', 'payout.failed', 'payout.reconciliation_completed']),
		    'the events to send are not listed');
		check((await text(p.t, `${panel} .webhook-state`)).includes('Not set') &&
		    (await text(p.t, `${panel} .webhook-state`)).includes('None yet'),
		    'the secret is not shown as missing');
		check(await p.t.getAttribute('#webhook-secret', 'type') === 'password' &&
		    await p.t.getAttribute('#webhook-secret', 'autocomplete') === 'off',
		    'the secret field is not a password field without autocomplete');
		await screen(p, e, 'webhook-none');

		/* Refused at the field, not sent. */
		await p.t.fill('#webhook-secret', 'whsec_short');
		await p.t.click(`${panel} button[type=submit]`);
		check((await text(p.t, '#webhook-secret-err')).includes('at least 16'),
		    'a short secret is not refused at its field');
		await p.t.fill('#webhook-secret', 'sk_test_0123456789abcdefgh');
		await p.t.click(`${panel} button[type=submit]`);
		check((await text(p.t, '#webhook-secret-err')).includes('API key'),
		    'an API key is not refused at the secret\'s field');
		check(puts.length === 0, 'a refused secret was sent');

		/* Saved: only the last four come back. */
		await p.t.fill('#webhook-secret', S);
		await p.t.click(`${panel} button[type=submit]`);
		await p.t.waitForSelector(`${panel} .result.good`);
		check(puts.length === 1 && puts[0].secret === S &&
		    Object.keys(puts[0]).length === 1, 'the PUT body is not the secret');
		check(answers.length === 1 && !answers[0].includes(S.slice(6)) &&
		    JSON.parse(answers[0]).webhook.last4 === S.slice(-4) &&
		    JSON.parse(answers[0]).webhook.set === true,
		    'the answer is not the last four alone: ' + answers[0]);
		check((await text(p.t, `${panel} .webhook-state`)).includes(
		    'Set: ending in ' + S.slice(-4)), 'the state does not show the ' +
		    'last four');
		check(await p.t.inputValue('#webhook-secret') === '',
		    'the secret stays in the field');
		await secretNowhere(p, S, 'once saved');
		await screen(p, e, 'webhook-set');
		await nav(p, 'overview');
		await nav(p, 'stripe');
		await loaded(p);
		check((await text(p.t, `${panel} .webhook-state`)).includes(
		    'Set: ending in ' + S.slice(-4)), 'the saved secret is not shown ' +
		    'when the screen is opened again');
		await secretNowhere(p, S, 'opened again');
		const w = (await apiGet(e, '/api/v1/stripe')).webhook;
		check(w.set === true && w.last4 === S.slice(-4), 'the API does not ' +
		    'hold the secret: ' + JSON.stringify(w));

		/* Removed, once confirmed. */
		await p.t.click(`${panel} button:text-is("Remove secret")`);
		check(await p.t.evaluate(() => document.activeElement.textContent) ===
		    'Keep it', 'the safe answer does not take the focus');
		await p.t.click(`${panel} button:text-is("Keep it")`);
		check((await apiGet(e, '/api/v1/stripe')).webhook.set === true,
		    'Keep it removed the secret');
		await p.t.click(`${panel} button:text-is("Remove secret")`);
		await p.t.click(`${panel} button:text-is("Yes, remove it")`);
		await p.t.waitForSelector(`${panel} .webhook-state:has-text("Not set")`);
		check((await apiGet(e, '/api/v1/stripe')).webhook.set === false,
		    'the secret was not removed');
		check(await p.t.isHidden(`${panel} button:text-is("Remove secret")`),
		    'Remove is offered with no secret set');
		await screen(p, e, 'webhook-removed');
	},

	async problems(ctx, e) {
		const body = await apiGet(e, '/api/v1/problems?limit=100');
		const list = body.data;
		const unflagged = list.filter((x) => ['pending', 'unscoped',
		    'untargeted'].includes(x.state)).length;
		check(body.alerts_write === false && list.some((x) => x.state ===
		    'unscoped'), 'the install has no unscoped problem to show');
		const p = await open(ctx, e);
		await overview(p);
		await p.t.waitForSelector('#problems-count[data-count]',
		    { state: 'attached' });
		check(await p.t.isVisible('#problems-count') &&
		    (await text(p.t, '#problems-count')).replace(/\D/g, '') ===
		    String(unflagged), 'the nav\'s badge does not count the ' +
		    `${unflagged} problems not flagged`);
		check((await p.t.$eval('#nav a[data-screen="problems"]', (a) =>
		    a.textContent)).trim() === `Problems: ${unflagged} not flagged`,
		    'the nav link does not say how many are not flagged');
		await nav(p, 'problems');
		await loaded(p);
		check((await text(p.t, '#screen .notice')).includes('Reinstall with ' +
		    'alerts:write to get Cloud alerts'), 'the missing scope is not said');
		const items = await p.t.$$eval('#screen .problem-list > li', (lis) =>
		    lis.map((li) => ({ title: li.querySelector('.problem-title')
		    .innerText, text: li.innerText.replace(/\s+/g, ' ') })));
		check(items.length === list.length, `${items.length} problems shown, ` +
		    `the API lists ${list.length}`);
		list.forEach((x, i) => {
			const it = items[i];
			const when = x.created_at.replace('T', ' ').replace(/\.\d+Z$|Z$/,
			    ' UTC');
			check(it.title.startsWith(x.title), `problem ${i}'s title is ` +
			    `"${it.title}", not "${x.title}"`);
			check(it.text.includes(x.description.replace(/\s+/g, ' ')),
			    `problem ${i}'s description is not shown`);
			check(it.text.includes(when), `problem ${i} does not say when`);
			check(it.text.includes(x.target), `problem ${i} does not say ` +
			    'what it is about');
			const words = { unscoped: 'Not flagged in Blnk Cloud: this ' +
			    'installation lacks alerts:write. Reinstall with ' +
			    'alerts:write to get Cloud alerts.', untargeted: 'there is ' +
			    'nothing in Blnk to flag it on', pending: 'Waiting',
			    flagged: 'Flagged in Blnk Cloud as ' + x.anomaly_id,
			    cleared: 'Cleared' }[x.state];
			check(words && it.text.includes(words), `problem ${i} (${x.state}) ` +
			    'does not say what became of it: ' + it.text);
		});
		await screen(p, e, 'problems');
	},

	async readonly(ctx, e) {
		const p = await open(ctx, e);
		await overview(p);
		const why = 'Needs data:write: reinstall the app from Blnk Cloud and grant it';
		await nav(p, 'stripe');
		await loaded(p);
		const panel = '#screen section[aria-labelledby="webhook-title"]';
		check(await p.t.locator(`${panel} input`).count() === 0,
		    'a secret field is offered');
		check(await p.t.isDisabled(`${panel} button:text-is("Save secret")`),
		    'Save secret is enabled');
		check((await text(p.t, panel)).includes(why), 'no reason for the ' +
		    'disabled Save');
		check(await text(p.t, '#webhook-url') === e.APP + '/api/stripe/webhook/' +
		    e.ID, 'the endpoint URL is not shown');
		await screen(p, e, 'ro-webhook');
		await nav(p, 'reconciliations');
		await loaded(p);
		check(await p.t.isDisabled('#screen .recon-form button[type=submit]'),
		    'Reconcile is enabled without Stripe');
		check((await text(p.t, '#screen .recon-form')).includes('Stripe is not ' +
		    'connected'), 'no reason for the disabled Reconcile');
		await screen(p, e, 'ro-recons');
	},
};

run('recon.js', scenarios, ['TOK', 'WHSEC', 'GONE', 'CHANGED', 'PLANTED']);
