'use strict';
/*
 * Injected gateway faults: the next N gateway calls (optionally only
 * those whose path starts with a prefix) answer 429 with Retry-After,
 * 423, 500 or 503, or stall (never answer until the client gives up).
 */

const MODES = ['429', '423', '500', '503', 'stall', 'none'];

class Faults {
	constructor() {
		this.clear();
	}

	/* Removes any fault. */
	clear() {
		this.mode = 'none';
		this.count = 0;
		this.prefix = '';
		this.retryAfter = 1;
	}

	/*
	 * Sets a fault from a control-API body {mode, count, paths_prefix,
	 * retry_after}.  Returns null or an error message.
	 */
	set(body) {
		const mode = String(body.mode);
		if (!MODES.includes(mode))
			return 'mode must be one of ' + MODES.join(', ');
		const count = body.count === undefined ? 1 : body.count;
		if (!Number.isInteger(count) || count < 0)
			return 'count must be an integer >= 0';
		const prefix = body.paths_prefix === undefined ? '' :
		    body.paths_prefix;
		if (typeof prefix !== 'string')
			return 'paths_prefix must be a string';
		const ra = body.retry_after === undefined ? 1 : body.retry_after;
		if (!Number.isInteger(ra) || ra < 0)
			return 'retry_after must be an integer >= 0';
		this.clear();
		if (mode !== 'none') {
			this.mode = mode;
			this.count = count;
			this.prefix = prefix;
			this.retryAfter = ra;
		}
		return null;
	}

	/* Returns the current setting (for the control API). */
	state() {
		return { mode: this.mode, count: this.count,
		    paths_prefix: this.prefix, retry_after: this.retryAfter };
	}

	/*
	 * Returns {mode, retryAfter} for a call to path (using one up), or
	 * null when no fault applies.
	 */
	take(path) {
		if (this.mode === 'none' || this.count <= 0 ||
		    !path.startsWith(this.prefix))
			return null;
		const f = { mode: this.mode, retryAfter: this.retryAfter };
		if (--this.count === 0)
			this.clear();
		return f;
	}
}

module.exports = { Faults, MODES };
