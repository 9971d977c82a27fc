'use strict';
/*
 * What can make a call fail before it is answered: injected faults (the
 * next N calls, optionally only under a path prefix) and the per-second
 * rate limiter.
 *
 * Stripe's rate limits (docs.stripe.com/rate-limits): 100 requests a second
 * in live mode, 25 in test mode, per account.  Stripe describes its
 * limiter as a token bucket (stripe.com/blog/rate-limiters); ours holds
 * `rate` tokens and refills `rate` a second, per mode.  A refused call is
 * 429 with code rate_limit and Stripe-Should-Retry: false: the official
 * clients do not retry a rate limit (they retry what says true, such as a
 * lock_timeout; stripe-node RequestSender._shouldRetry), so false is the
 * header that makes a client handle it itself.
 */

const { FaultCounter } = require('../../sim-lib/faults');

const MODES = ['429', 'lock_timeout', '500', 'stall', 'none'];

/*
 * Faults, counted by tools/sim-lib/faults.js (shared with cloud-sim): a
 * body {mode, count (default 1), paths_prefix (default "/v1/", and it
 * must start with /v1)}; a count of 0 clears the fault.
 */
class Faults extends FaultCounter {
	constructor() {
		super({ modes: MODES, prefix: '/v1/', prefixStart: '/v1',
		    armEmpty: false });
	}
}

/* Default requests a second per mode (Stripe's). */
const DEFAULT_RATES = { test: 25, live: 100 };

class RateLimiter {
	/* rates: {test, live}; 0 turns a mode's limiter off. */
	constructor(rates, now) {
		this.now = now || (() => Date.now());
		this.rates = Object.assign({}, DEFAULT_RATES, rates || {});
		this.buckets = {};
	}

	/* Sets a mode's rate (and refills its bucket). */
	setRate(mode, rate) {
		this.rates[mode] = rate;
		delete this.buckets[mode];
	}

	/* Returns true when a call in mode may go ahead (taking a token). */
	take(mode) {
		const rate = this.rates[mode];
		if (!rate)
			return true;
		const t = this.now();
		let b = this.buckets[mode];
		if (b === undefined)
			b = this.buckets[mode] = { tokens: rate, at: t };
		b.tokens = Math.min(rate, b.tokens + (t - b.at) / 1000 * rate);
		b.at = t;
		if (b.tokens < 1)
			return false;
		b.tokens -= 1;
		return true;
	}

	state() {
		return Object.assign({}, this.rates);
	}
}

module.exports = { Faults, RateLimiter, MODES, DEFAULT_RATES };
