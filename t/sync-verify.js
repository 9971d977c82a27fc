// t/sync-verify.js: does Blnk hold every Stripe balance transaction exactly
// once, with its fee apart, and does the Blnk balance standing for Stripe
// equal Stripe's balance, per currency, to the minor unit?  For the sync
// tests (t7xxx).  No dependencies.
//
//   node t/sync-verify.js STRIPE_URL KEY CLOUD_SIM_URL INSTANCE_ID [options]
//     --stripe-balance @stripe   the indicator standing for Stripe
//     --fees @stripe-fees        the fee balance
//     --since UNIX               only balance transactions created since
//                                (an opening balance then makes up the rest)
//     --allow-extra              do not fail on app references Stripe lacks
//
// Reads Stripe's side through its API (every page, as Stripe's client
// would) and Blnk's from the Cloud simulator's dump of the instance's Core.
// Prints one JSON line {ok, txns, postings, currencies, problems} and exits
// 0 only when ok.  Independent of the app's code: the money rules are
// written out again here from Stripe's currencies page and Blnk's list.
'use strict';

const fs = require('fs');
const path = require('path');

const ZERO = 'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF'
    .split(' ');
const THREE = 'BHD JOD KWD OMR TND'.split(' ');
const blnkList = JSON.parse(fs.readFileSync(path.join(__dirname,
    'fixtures/blnk/fiat-currency.json'), 'utf8'));
const blnkPrecision = new Map(blnkList.map((c) => [c.currency,
    BigInt(c.precision)]));

function stripeUnit(cur) {
	if (ZERO.includes(cur))
		return 1n;
	if (THREE.includes(cur))
		return 1000n;
	return 100n;		// ISK, HUF, TWD, UGX: two decimals in the API
}

// Stripe minor units to [precise_amount, precision] in Blnk, exactly.
function toBlnk(amount, cur) {
	const unit = stripeUnit(cur);
	const prec = blnkPrecision.get(cur) || unit;
	const scaled = BigInt(amount) * prec;
	if (scaled % unit !== 0n)
		throw new Error(cur + ' ' + amount + ' does not convert exactly');
	return [scaled / unit, prec];
}

const args = process.argv.slice(2);
const [stripeUrl, key, simUrl, instance] = args;
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const stripeBalance = opt('--stripe-balance', '@stripe');
const feesBalance = opt('--fees', '@stripe-fees');
const since = Number(opt('--since', '0'));
const allowExtra = args.includes('--allow-extra');

const auth = 'Basic ' + Buffer.from(key + ':').toString('base64');

async function get(url, headers) {
	for (let attempt = 0; ; attempt++) {
		const r = await fetch(url, { headers });
		if (r.status === 429 && attempt < 50) {
			await new Promise((res) => setTimeout(res, 200));
			continue;
		}
		if (r.status !== 200)
			throw new Error('GET ' + url + ': HTTP ' + r.status);
		// Core's amounts are big integers: keep them exact.
		const text = await r.text();
		return JSON.parse(text.replace(/("(?:precise_amount|balance)":)(-?\d+)/g,
		    '$1"$2"'));
	}
}

async function stripeList() {
	const all = [];
	let after = null;
	for (;;) {
		let url = stripeUrl + '/v1/balance_transactions?limit=100';
		if (since > 0)
			url += '&created[gte]=' + since;
		if (after !== null)
			url += '&starting_after=' + after;
		const page = await get(url, { authorization: auth,
		    'stripe-version': '2022-11-15' });
		all.push(...page.data);
		if (!page.has_more)
			return all;
		after = page.data[page.data.length - 1].id;
	}
}

async function main() {
	const problems = [];
	const txns = await stripeList();
	const bal = await get(stripeUrl + '/v1/balance', { authorization: auth,
	    'stripe-version': '2022-11-15' });
	const core = await get(simUrl + '/_sim/core?instance_id=' +
	    encodeURIComponent(instance), {});

	const indicator = new Map(core.balances.map((b) => [b.balance_id,
	    b.indicator]));
	const byRef = new Map();
	for (const t of core.transactions) {
		if (byRef.has(t.reference))
			problems.push('two Blnk rows with reference ' + t.reference);
		byRef.set(t.reference, t);
	}

	// Every balance transaction: its postings, applied, exact, once.
	const expected = new Set();
	const want = (ref, amount, cur, stripeSide) => {
		expected.add(ref);
		const q = byRef.get(ref + '_q');
		if (q === undefined) {
			problems.push('missing in Blnk: ' + ref);
			return;
		}
		if (q.status !== 'APPLIED')
			problems.push(ref + ' is ' + q.status);
		const [p, prec] = toBlnk(amount < 0 ? -amount : amount, cur);
		if (BigInt(q.precise_amount) !== p || BigInt(q.precision) !== prec ||
		    q.currency !== cur)
			problems.push(ref + ': ' + q.precise_amount + '/' + q.precision +
			    ' ' + q.currency + ', want ' + p + '/' + prec + ' ' + cur);
		const side = indicator.get(stripeSide === 'source' ? q.source :
		    q.destination);
		if (side !== stripeBalance)
			problems.push(ref + ': ' + stripeBalance + ' is not its ' +
			    stripeSide);
	};
	let presentment = 0;
	for (const t of txns) {
		const cur = t.currency.toUpperCase();
		if (t.amount !== 0)
			want('stripe.' + t.id + '.gross', t.amount, cur,
			    t.amount > 0 ? 'source' : 'destination');
		if (t.fee !== 0) {
			want('stripe.' + t.id + '.fee', t.fee, cur,
			    t.fee > 0 ? 'destination' : 'source');
			const q = byRef.get('stripe.' + t.id + '.fee_q');
			if (q && indicator.get(t.fee > 0 ? q.source : q.destination) !==
			    feesBalance)
				problems.push('stripe.' + t.id + '.fee does not go to ' +
				    feesBalance);
		}
		if (t.exchange_rate !== null) {
			const q = byRef.get('stripe.' + t.id + '.gross_q');
			if (q && q.meta_data && q.meta_data.presentment_currency &&
			    q.meta_data.stripe_exchange_rate !== undefined &&
			    q.meta_data.presentment_amount !== undefined)
				presentment++;
			else
				problems.push('stripe.' + t.id + ': presentment not recorded');
		}
	}
	// Nothing the app posted that Stripe does not have.
	for (const t of core.transactions) {
		if (!t.reference.startsWith('stripe.') || !t.reference.endsWith('_q'))
			continue;
		const ref = t.reference.slice(0, -2);
		if (!expected.has(ref) && !ref.startsWith('stripe.opening.') &&
		    !allowExtra)
			problems.push('in Blnk but unknown to Stripe: ' + ref);
	}
	// Per currency: @stripe is Stripe's balance, mirrored.
	const stripeSum = new Map();
	for (const part of ['available', 'pending'])
		for (const b of bal[part])
			stripeSum.set(b.currency, (stripeSum.get(b.currency) || 0) +
			    b.amount);
	const currencies = [];
	for (const [c, amount] of stripeSum) {
		const cur = c.toUpperCase();
		const [p] = toBlnk(amount, cur);
		const row = core.balances.find((b) => b.indicator === stripeBalance &&
		    b.currency === cur);
		const blnk = row ? BigInt(row.balance) : 0n;
		currencies.push(cur);
		if (blnk !== -p)
			problems.push('balance ' + cur + ': Blnk ' + stripeBalance +
			    ' is ' + blnk + ', Stripe holds ' + p + ' (want ' + (-p) + ')');
	}
	const out = { ok: problems.length === 0, txns: txns.length,
	    postings: expected.size, presentment, currencies,
	    problems: problems.slice(0, 30), problem_count: problems.length };
	console.log(JSON.stringify(out));
	process.exit(out.ok ? 0 : 1);
}

main().catch((e) => {
	console.log(JSON.stringify({ ok: false, error: String(e) }));
	process.exit(1);
});
