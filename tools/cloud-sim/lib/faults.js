'use strict';
/*
 * Injected gateway faults: the next N gateway calls (optionally only
 * those whose path starts with a prefix) answer 429 with Retry-After,
 * 423, 500 or 503, or stall (never answer until the client gives up).
 */

const { FaultCounter } = require('../../sim-lib/faults');

const MODES = ['429', '423', '500', '503', 'stall', 'none'];

/*
 * The counting (mode, count, paths_prefix) is tools/sim-lib/faults.js,
 * shared with stripe-sim.  Ours: any prefix (default: every gateway
 * call), a count of 0 keeps the mode set (and never fires), and a 429
 * carries retry_after.
 */
class Faults extends FaultCounter {
	constructor() {
		super({ modes: MODES, prefix: '', prefixStart: '', armEmpty: true });
	}

	/* Removes any fault. */
	clear() {
		super.clear();
		this.retryAfter = 1;
	}

	/*
	 * Sets a fault from a control-API body {mode, count, paths_prefix,
	 * retry_after}.  Returns null or an error message.
	 */
	set(body) {
		const msg = this.check(body);
		if (msg !== null)
			return msg;
		const ra = body.retry_after === undefined ? 1 : body.retry_after;
		if (!Number.isInteger(ra) || ra < 0)
			return 'retry_after must be an integer >= 0';
		this.arm(body);
		if (this.mode !== 'none')
			this.retryAfter = ra;
		return null;
	}

	/* Returns the current setting (for the control API). */
	state() {
		return Object.assign(super.state(), { retry_after: this.retryAfter });
	}

	/*
	 * Returns {mode, retryAfter} for a call to path (using one up), or
	 * null when no fault applies.
	 */
	take(path) {
		const retryAfter = this.retryAfter;
		const mode = super.take(path);
		return mode === null ? null : { mode, retryAfter };
	}
}

module.exports = { Faults, MODES };
