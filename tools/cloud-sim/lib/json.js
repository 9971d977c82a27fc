'use strict';
/*
 * A strict JSON parser that keeps what JSON.parse loses and Core does not:
 *  - an integer literal beyond 2^53 becomes a BigInt (Core decodes
 *    precise_amount into a *big.Int, exactly);
 *  - the paths of number literals written with a fraction or an exponent
 *    are recorded, because Go's big.Int refuses "100.0" and "1e2"
 *    (math/big Int.UnmarshalJSON) while JSON.parse turns both into 100.
 * parseJson(text) returns {value, floats} (floats: a Set of paths such as
 * "precise_amount" or "transactions.3.precise_amount") or throws
 * SyntaxError.
 */

const WS = /[ \t\n\r]*/y;
const NUM = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const STR = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/* Parses text; see above. */
function parseJson(text) {
	let i = 0;
	const floats = new Set();
	const path = [];
	const fail = () => {
		throw new SyntaxError('bad JSON at offset ' + i);
	};
	const ws = () => {
		WS.lastIndex = i;
		WS.exec(text);
		i = WS.lastIndex;
	};
	const lit = (word, v) => {
		if (text.startsWith(word, i)) {
			i += word.length;
			return v;
		}
		return fail();
	};
	const str = () => {
		STR.lastIndex = i;
		const m = STR.exec(text);
		if (m === null)
			fail();
		i = STR.lastIndex;
		return JSON.parse(m[0]);
	};
	const num = () => {
		NUM.lastIndex = i;
		const m = NUM.exec(text);
		if (m === null)
			fail();
		i = NUM.lastIndex;
		if (m[1] !== undefined || m[2] !== undefined) {
			floats.add(path.join('.'));
			return Number(m[0]);
		}
		const n = Number(m[0]);
		return Number.isSafeInteger(n) ? n : BigInt(m[0]);
	};
	const value = () => {
		ws();
		const c = text[i];
		let v;
		if (c === '{') {
			i++;
			v = {};
			ws();
			if (text[i] === '}')
				i++;
			else
				for (;;) {
					ws();
					if (text[i] !== '"')
						fail();
					const k = str();
					ws();
					if (text[i++] !== ':')
						fail();
					path.push(k);
					Object.defineProperty(v, k, { value: value(),
					    enumerable: true, writable: true,
					    configurable: true });
					path.pop();
					ws();
					if (text[i] === ',') {
						i++;
						continue;
					}
					if (text[i++] !== '}')
						fail();
					break;
				}
		} else if (c === '[') {
			i++;
			v = [];
			ws();
			if (text[i] === ']')
				i++;
			else
				for (;;) {
					path.push(v.length);
					v.push(value());
					path.pop();
					ws();
					if (text[i] === ',') {
						i++;
						continue;
					}
					if (text[i++] !== ']')
						fail();
					break;
				}
		} else if (c === '"')
			v = str();
		else if (c === 't')
			v = lit('true', true);
		else if (c === 'f')
			v = lit('false', false);
		else if (c === 'n')
			v = lit('null', null);
		else
			v = num();
		return v;
	};
	const v = value();
	ws();
	if (i !== text.length)
		fail();
	return { value: v, floats };
}

module.exports = { parseJson };
