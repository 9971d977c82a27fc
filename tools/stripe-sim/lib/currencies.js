'use strict';
/*
 * Stripe's minor units (docs.stripe.com/currencies, "Minor units in API
 * amounts" and "Special cases"):
 *  - most currencies have two decimals: 10.00 USD is 1000;
 *  - zero-decimal currencies are sent in whole units: 500 JPY is 500;
 *  - three-decimal currencies are sent with three decimals, and the last
 *    digit must be 0 (5.124 KWD must be 5120 or 5130);
 *  - ISK is effectively zero-decimal but kept two-decimal in the API, so its
 *    amounts are divisible by 100; HUF and TWD are two-decimal for charges
 *    but whole units for payouts.  The simulator makes every HUF and TWD
 *    amount divisible by 100 too (stricter: a payout of the whole balance
 *    is then always possible).
 * UGX is zero-decimal (it is on the zero-decimal list).
 */

const ZERO_DECIMAL = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga',
    'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'];
const THREE_DECIMAL = ['bhd', 'jod', 'kwd', 'omr', 'tnd'];
const WHOLE_IN_TWO_DECIMALS = ['isk', 'huf', 'twd'];

/* The presentment currencies Stripe lists (docs.stripe.com/currencies). */
const SUPPORTED = ('usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt ' +
    'bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp cny cop crc ' +
    'cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd ' +
    'hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd ' +
    'kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr ' +
    'mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd ' +
    'rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top try ' +
    'ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw')
    .split(' ');

/*
 * Rough value of one major unit in USD, for the generator only: converted
 * charges, fee sizes, price ranges.  Not market data, and the app must
 * never compute money with exchange rates anyway.
 */
const USD_PER_UNIT = {
	usd: 1, eur: 1.08, gbp: 1.27, jpy: 0.0067, kwd: 3.25, chf: 1.13,
	cad: 0.73, aud: 0.66, nzd: 0.61, sek: 0.095, nok: 0.093, dkk: 0.145,
	pln: 0.25, czk: 0.043, huf: 0.0028, isk: 0.0072, twd: 0.031,
	krw: 0.00075, bhd: 2.65, jod: 1.41, omr: 2.6, tnd: 0.32, mxn: 0.058,
	brl: 0.2, inr: 0.012, sgd: 0.74, hkd: 0.128, zar: 0.054, clp: 0.00107,
	ugx: 0.00026, vnd: 0.00004, xof: 0.00165, xaf: 0.00165, aed: 0.272,
	thb: 0.028, myr: 0.21, php: 0.018, idr: 0.000064, ils: 0.27,
	ron: 0.22, bgn: 0.55, try: 0.031, pyg: 0.000137, bif: 0.00035,
};

/* Returns true when c is a currency code Stripe supports (lower case). */
function isSupported(c) {
	return SUPPORTED.includes(c);
}

/* Returns the number of decimals of c's minor unit in the API. */
function exponent(c) {
	if (ZERO_DECIMAL.includes(c))
		return 0;
	if (THREE_DECIMAL.includes(c))
		return 3;
	return 2;
}

/* Returns the step every amount in c is a multiple of (see above). */
function step(c) {
	if (THREE_DECIMAL.includes(c))
		return 10;
	if (WHOLE_IN_TWO_DECIMALS.includes(c))
		return 100;
	return 1;
}

/* Returns true when amount (an integer, any sign) is valid in c. */
function isValidAmount(c, amount) {
	return Number.isSafeInteger(amount) && amount % step(c) === 0;
}

/* Returns x (minor units, any real) rounded to the nearest valid amount. */
function round(c, x) {
	const s = step(c);
	return Math.round(x / s) * s;
}

/* Returns x rounded down (towards zero for x >= 0) to a valid amount. */
function floor(c, x) {
	const s = step(c);
	return Math.floor(x / s) * s;
}

/* Returns one major unit of c in USD (1 for a currency we have no rate for). */
function usdPerUnit(c) {
	return USD_PER_UNIT[c] || 1;
}

/* Returns amount (minor units of from) as a real number of minor units of to
 * at rate (units of to per unit of from). */
function convert(amount, from, to, rate) {
	return amount / 10 ** exponent(from) * rate * 10 ** exponent(to);
}

/* Returns the valid amount of c nearest to usd US dollars. */
function fromUsd(c, usd) {
	return round(c, usd / usdPerUnit(c) * 10 ** exponent(c));
}

module.exports = {
	ZERO_DECIMAL, THREE_DECIMAL, WHOLE_IN_TWO_DECIMALS, SUPPORTED,
	isSupported, exponent, step, isValidAmount, round, floor, usdPerUnit,
	convert, fromUsd,
};
