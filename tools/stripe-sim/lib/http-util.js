'use strict';
/*
 * Small HTTP helpers: reading a JSON body with a size cap, JSON answers.
 */

const MAX_BODY = 64 * 1024;

/* Reads the whole body; rejects with .status 413 past max bytes. */
function readBody(req, max) {
	const limit = max || MAX_BODY;
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

/* Parses a JSON object body ('' is {}); returns {ok, value} or {ok: false,
 * message}. */
function parseJsonObject(buf) {
	const text = buf.toString('utf8').trim();
	if (text === '')
		return { ok: true, value: {} };
	let v;
	try {
		v = JSON.parse(text);
	} catch (e) {
		return { ok: false, message: 'request body is not valid JSON' };
	}
	if (v === null || typeof v !== 'object' || Array.isArray(v))
		return { ok: false, message: 'request body must be a JSON object' };
	return { ok: true, value: v };
}

/* Writes a JSON answer (pretty when pretty is true, as Stripe's are). */
function sendJson(res, status, value, headers, pretty) {
	const body = (pretty ? JSON.stringify(value, null, 2) :
	    JSON.stringify(value)) + '\n';
	res.writeHead(status, Object.assign({
		'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(body),
		'Cache-Control': 'no-cache, no-store',
		'X-Content-Type-Options': 'nosniff',
	}, headers || {}));
	res.end(body);
}

module.exports = { MAX_BODY, readBody, parseJsonObject, sendJson };
