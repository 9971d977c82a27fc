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

const MODES = ['429', 'lock_timeout', '500', 'stall', 'none'];

class Faults {
	constructor() {
		this.clear();
	}

	/* Removes any fault. */
	clear() {
		this.mode = 'none';
		this.count = 0;
		this.prefix = '/v1/';
	}

	/* Sets a fault from {mode, count (default 1), paths_prefix (default
	 * "/v1/")}.  Returns null or an error message. */
	set(body) {
		const mode = String(body.mode);
		if (!MODES.includes(mode))
			return 'mode must be one of ' + MODES.join(', ');
		const count = body.count === undefined ? 1 : body.count;
		if (!Number.isInteger(count) || count < 0)
			return 'count must be an integer >= 0';
		const prefix = body.paths_prefix === undefined ? '/v1/' :
		    body.paths_prefix;
		if (typeof prefix !== 'string' || !prefix.startsWith('/v1'))
			return 'paths_prefix must be a string starting with /v1';
		this.clear();
		if (mode !== 'none' && count > 0) {
			this.mode = mode;
			this.count = count;
			this.prefix = prefix;
		}
		return null;
	}

	/* Returns the setting (for the control API). */
	state() {
		return { mode: this.mode, count: this.count,
		    paths_prefix: this.prefix };
	}

	/* Returns the fault mode for a call to path (using one up), or null. */
	take(path) {
		if (this.mode === 'none' || !path.startsWith(this.prefix))
			return null;
		const m = this.mode;
		if (--this.count <= 0)
			this.clear();
		return m;
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
