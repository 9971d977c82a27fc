'use strict';
/*
 * Small HTTP helpers shared by the gateway, the control API and the
 * dashboard: body reading with a size cap, JSON answers (with exact
 * big integers), Core-style error bodies, HTML escaping.  Body reading,
 * JSON object parsing and the answers' common headers are
 * tools/sim-lib/http.js, shared with stripe-sim.
 */

const crypto = require('node:crypto');
const { parseJson } = require('./json');
const sim = require('../../sim-lib/http');

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
 * Reads the whole request body (sim-lib readBody).  Resolves to a Buffer;
 * rejects with an error carrying .status 413 when the body is larger
 * than max (default MAX_BODY).
 */
function readBody(req, max) {
	return sim.readBody(req, max || MAX_BODY);
}

/*
 * Parses a JSON object body with lib/json.js (big integers kept exactly,
 * float literals noted; sim-lib parseJsonObject).  An empty body is {}.
 * Returns {ok: true, value, floats} or {ok: false, message}.
 */
function parseJsonObject(buf) {
	return sim.parseJsonObject(buf, parseJson);
}

/* Writes a JSON answer with status and optional extra headers. */
function sendJson(res, status, value, headers) {
	sim.send(res, status, jsonStringify(value),
	    'application/json; charset=utf-8', 'no-store', headers);
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
	sim.send(res, status, html, 'text/html; charset=utf-8', 'no-store', {
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
