'use strict';
/*
 * HTTP helpers both simulators use: reading a request body with a size
 * cap, parsing it as a JSON object, and writing an answer with the
 * headers every answer of theirs carries.  What differs between them
 * (the JSON text, the content type, caching) is the caller's.
 */

/*
 * Reads the whole request body, at most limit bytes.  Resolves to a
 * Buffer.  Rejects with an Error carrying .status 413 ("request body too
 * large") as soon as the body passes limit (the request is paused, not
 * drained), or with the request's own error.
 */
function readBody(req, limit) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let size = 0;
		req.on('data', (c) => {
			size += c.length;
			if (size > limit) {
				const e = new Error('request body too large');
				e.status = 413;
				req.pause();
				reject(e);
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

/* The default parser of parseJsonObject: JSON.parse, no floats noted. */
function plainParse(text) {
	return { value: JSON.parse(text) };
}

/*
 * Parses a request body (a Buffer) as a JSON object.  parse(text) returns
 * {value, floats?} and throws on bad JSON (default: JSON.parse, which
 * notes no floats).  A body that is empty or only white space is {}.
 * Returns {ok: true, value, floats} (floats: what parse noted, else an
 * empty Set) or {ok: false, message} for text that is not JSON or not an
 * object.
 */
function parseJsonObject(buf, parse) {
	const text = buf.toString('utf8').trim();
	if (text === '')
		return { ok: true, value: {}, floats: new Set() };
	let r;
	try {
		r = (parse || plainParse)(text);
	} catch (e) {
		return { ok: false, message: 'request body is not valid JSON' };
	}
	const value = r.value;
	if (value === null || typeof value !== 'object' || Array.isArray(value))
		return { ok: false, message: 'request body must be a JSON object' };
	return { ok: true, value, floats: r.floats || new Set() };
}

/*
 * Writes a whole answer: status; the headers Content-Type: type,
 * Content-Length, Cache-Control: cache and X-Content-Type-Options:
 * nosniff, in that order, then those of headers (which may replace
 * them); then body, a string.
 */
function send(res, status, body, type, cache, headers) {
	res.writeHead(status, Object.assign({
		'Content-Type': type,
		'Content-Length': Buffer.byteLength(body),
		'Cache-Control': cache,
		'X-Content-Type-Options': 'nosniff',
	}, headers || {}));
	res.end(body);
}

module.exports = { readBody, parseJsonObject, send };
