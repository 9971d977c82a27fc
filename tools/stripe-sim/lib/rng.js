'use strict';
/*
 * A seeded pseudo-random generator, so that one seed always gives the same
 * data.  The state is sfc32 (Chris Doty-Humphrey's Small Fast Counter, 32-bit
 * variant), seeded from SHA-256 of the seed text.  Not for secrets: keys and
 * request ids come from node:crypto.
 */

const crypto = require('node:crypto');

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

class Rng {
	/* seed: any string. */
	constructor(seed) {
		const h = crypto.createHash('sha256').update(String(seed)).digest();
		this.a = h.readUInt32LE(0);
		this.b = h.readUInt32LE(4);
		this.c = h.readUInt32LE(8);
		this.d = h.readUInt32LE(12);
		/* Discard the first outputs: they still look like the seed. */
		for (let i = 0; i < 15; i++)
			this.uint32();
	}

	/* Returns the next 32-bit unsigned integer. */
	uint32() {
		const t = (((this.a + this.b) | 0) + this.d) | 0;
		this.d = (this.d + 1) | 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) | 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) | 0;
		return t >>> 0;
	}

	/* Returns a float in [0, 1). */
	float() {
		return this.uint32() / 4294967296;
	}

	/* Returns an integer in [lo, hi] (both included). */
	int(lo, hi) {
		return lo + Math.floor(this.float() * (hi - lo + 1));
	}

	/* Returns true with probability p. */
	chance(p) {
		return this.float() < p;
	}

	/* Returns one element of a non-empty array. */
	pick(arr) {
		return arr[Math.floor(this.float() * arr.length)];
	}

	/* pairs: [[value, weight], ...]; returns a value with its weight's odds. */
	weighted(pairs) {
		let total = 0;
		for (const p of pairs)
			total += p[1];
		let x = this.float() * total;
		for (const p of pairs) {
			x -= p[1];
			if (x < 0)
				return p[0];
		}
		return pairs[pairs.length - 1][0];
	}

	/* Returns an exponentially distributed float with the given mean. */
	exponential(mean) {
		return -Math.log(1 - this.float()) * mean;
	}

	/* Returns n characters of [0-9A-Za-z]. */
	base62(n) {
		let s = '';
		for (let i = 0; i < n; i++)
			s += BASE62[this.uint32() % 62];
		return s;
	}

	/* Returns n lower-case hexadecimal characters. */
	hex(n) {
		let s = '';
		for (let i = 0; i < n; i++)
			s += (this.uint32() & 15).toString(16);
		return s;
	}
}

module.exports = { Rng, BASE62 };
