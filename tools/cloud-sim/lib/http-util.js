'use strict';
/*
 * Small HTTP helpers shared by the gateway, the control API and the
 * dashboard: body reading with a size cap, JSON answers (with exact
 * big integers), Core-style error bodies, HTML escaping.
 */

const crypto = require('node:crypto');
const { parseJson } = require('./json');

/* Largest request body we accept (bytes); see readBody(req, max). */
const MAX_BODY = 1024 * 1024;

/*
 * A per-process marker used to emit BigInt values as bare JSON numbers.
 * JSON.stringify cannot write a BigInt, so the replacer turns each into a
 * marked string and jsonStringify() strips the quotes afterwards.
 */
const BIG_MARK = '@@big' + crypto.randomBytes(6).toString('hex') + ':';
const BIG_RE = new RegExp('"' + BIG_MARK + '(-?[0-9]+)"', 'g');

/* Returns the JSON text of value; BigInts become exact JSON numbers. */
function jsonStringify(value) {
	const text = JSON.stringify(value, (k, v) =>
	    typeof v === 'bigint' ? BIG_MARK + v.toString() : v);
	return text.replace(BIG_RE, '$1');
}

/*
 * Reads the whole request body.  Resolves to a Buffer; rejects with an
 * error carrying .status 413 when the body is larger than MAX_BODY.
 */
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

/*
 * Parses a JSON object body (lib/json.js: big integers kept exactly,
 * float literals noted).  An empty body is {}.  Returns
 * {ok: true, value, floats} or {ok: false, message}.
 */
function parseJsonObject(buf) {
	const text = buf.toString('utf8').trim();
	if (text === '')
		return { ok: true, value: {}, floats: new Set() };
	let r;
	try {
		r = parseJson(text);
	} catch (e) {
		return { ok: false, message: 'request body is not valid JSON' };
	}
	const value = r.value;
	if (value === null || typeof value !== 'object' || Array.isArray(value))
		return { ok: false, message: 'request body must be a JSON object' };
	return { ok: true, value, floats: r.floats };
}

/* Writes a JSON answer with status and optional extra headers. */
function sendJson(res, status, value, headers) {
	const body = jsonStringify(value);
	res.writeHead(status, Object.assign({
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(body),
		'Cache-Control': 'no-store',
		'X-Content-Type-Options': 'nosniff',
	}, headers || {}));
	res.end(body);
}

/*
 * Returns a Core error body (blnk api/errors.go writeError):
 * {<key>: message, error_detail: {code, message[, details]}}, where key is
 * "error", or "errors" for validation failures.
 */
function coreErrorBody(code, message, key, details) {
	const detail = { code, message };
	if (details !== undefined)
		detail.details = details;
	return { [key || 'error']: message, error_detail: detail };
}

/* Answers with a Core-style error body. */
function sendCoreError(res, status, code, message, headers) {
	sendJson(res, status, coreErrorBody(code, message), headers);
}

/* Writes an HTML page (the dashboard's own CSP allows framing any app). */
function sendHtml(res, status, html) {
	res.writeHead(status, {
		'Content-Type': 'text/html; charset=utf-8',
		'Content-Length': Buffer.byteLength(html),
		'Cache-Control': 'no-store',
		'X-Content-Type-Options': 'nosniff',
		/*
		 * same-origin, not no-referrer: with no-referrer a browser posts
		 * the dashboard's forms with "Origin: null", which the
		 * dashboard must refuse like any opaque origin.
		 */
		'Referrer-Policy': 'same-origin',
		'Content-Security-Policy': "default-src 'none'; " +
		    "style-src 'unsafe-inline'; img-src http: https: data:; " +
		    "frame-src http: https:; form-action 'self'; " +
		    "frame-ancestors 'none'",
	});
	res.end(html);
}

/* Answers 303 See Other to location. */
function redirect(res, location) {
	res.writeHead(303, { Location: location, 'Content-Length': 0 });
	res.end();
}

/* Returns s with the five HTML-special characters escaped. */
function escapeHtml(s) {
	return String(s === undefined || s === null ? '' : s)
	    .replace(/&/g, '&amp;').replace(/</g, '&lt;')
	    .replace(/>/g, '&gt;').replace(/"/g, '&quot;')
	    .replace(/'/g, '&#39;');
}

module.exports = {
	MAX_BODY, jsonStringify, readBody, parseJsonObject, sendJson,
	coreErrorBody, sendCoreError, sendHtml, redirect, escapeHtml,
};
