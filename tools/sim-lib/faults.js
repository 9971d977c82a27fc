'use strict';
/*
 * Injected faults, counted: the next `count` calls whose path starts with
 * a prefix take the fault `mode`, then the fault clears itself.  Each
 * simulator names its own modes and prefixes, and may keep more fields
 * (a subclass extends clear(), set() and state()).
 */

class FaultCounter {
	/*
	 * spec:
	 *   modes        the modes set() accepts, 'none' (no fault) among them
	 *   prefix       the prefix when a body names none
	 *   prefixStart  what a prefix must start with ('' for anything)
	 *   armEmpty     true: a count of 0 still sets the mode (state() shows
	 *                it; it is never taken); false: it clears the fault
	 */
	constructor(spec) {
		this.spec = spec;
		this.clear();
	}

	/* Removes any fault. */
	clear() {
		this.mode = 'none';
		this.count = 0;
		this.prefix = this.spec.prefix;
	}

	/*
	 * Checks a control-API body {mode, count (default 1), paths_prefix
	 * (default spec.prefix)}.  Returns null or an error message.
	 */
	check(body) {
		const mode = String(body.mode);
		if (!this.spec.modes.includes(mode))
			return 'mode must be one of ' + this.spec.modes.join(', ');
		const count = body.count === undefined ? 1 : body.count;
		if (!Number.isInteger(count) || count < 0)
			return 'count must be an integer >= 0';
		const start = this.spec.prefixStart;
		const prefix = body.paths_prefix === undefined ? this.spec.prefix :
		    body.paths_prefix;
		if (typeof prefix !== 'string' || !prefix.startsWith(start))
			return 'paths_prefix must be a string' +
			    (start === '' ? '' : ' starting with ' + start);
		return null;
	}

	/* Replaces the fault by the one a body that check() passed names. */
	arm(body) {
		const count = body.count === undefined ? 1 : body.count;
		this.clear();
		if (String(body.mode) !== 'none' && (count > 0 ||
		    this.spec.armEmpty)) {
			this.mode = String(body.mode);
			this.count = count;
			this.prefix = body.paths_prefix === undefined ?
			    this.spec.prefix : body.paths_prefix;
		}
	}

	/* Sets a fault from a control-API body.  Returns null or an error
	 * message (and then changes nothing). */
	set(body) {
		const msg = this.check(body);
		if (msg !== null)
			return msg;
		this.arm(body);
		return null;
	}

	/* Returns the setting (for the control API). */
	state() {
		return { mode: this.mode, count: this.count,
		    paths_prefix: this.prefix };
	}

	/*
	 * Returns the fault mode for a call to path, using one up (the last
	 * one clears the fault), or null when no fault applies.
	 */
	take(path) {
		if (this.mode === 'none' || this.count <= 0 ||
		    !path.startsWith(this.prefix))
			return null;
		const m = this.mode;
		if (--this.count <= 0)
			this.clear();
		return m;
	}
}

module.exports = { FaultCounter };
