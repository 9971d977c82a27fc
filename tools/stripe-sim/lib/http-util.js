'use strict';
/*
 * Small HTTP helpers: reading a JSON body with a size cap, JSON answers.
 * The body reading and parsing, and the answers' common headers, are
 * tools/sim-lib/http.js, shared with cloud-sim.
 */

const sim = require('../../sim-lib/http');

const MAX_BODY = 64 * 1024;

/* Reads the whole body; rejects with .status 413 past max bytes (default
 * MAX_BODY). */
function readBody(req, max) {
	return sim.readBody(req, max || MAX_BODY);
}

/* Parses a JSON object body ('' is {}) with JSON.parse; returns {ok,
 * value} or {ok: false, message}. */
function parseJsonObject(buf) {
	return sim.parseJsonObject(buf);
}

/* Writes a JSON answer (pretty when pretty is true, as Stripe's are),
 * ending in a newline. */
function sendJson(res, status, value, headers, pretty) {
	const body = (pretty ? JSON.stringify(value, null, 2) :
	    JSON.stringify(value)) + '\n';
	sim.send(res, status, body, 'application/json', 'no-cache, no-store',
	    headers);
}

module.exports = { MAX_BODY, readBody, parseJsonObject, sendJson };
