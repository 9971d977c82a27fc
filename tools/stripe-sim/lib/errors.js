'use strict';
/*
 * Stripe's error bodies (docs.stripe.com/api/errors):
 *   {"error": {"code"?, "doc_url"?, "message", "param"?,
 *              "request_log_url"?, "type"}}
 * with the keys in Stripe's (alphabetical) order.  `doc_url` is
 * https://stripe.com/docs/error-codes/<code with dashes>, as Stripe sends
 * it with every coded error.  Handlers throw an ApiError; lib/server.js
 * writes it.
 */

class ApiError extends Error {
	/*
	 * status: the HTTP status; e: {type, message, code?, param?};
	 * headers: extra response headers (Stripe-Should-Retry).
	 */
	constructor(status, e, headers) {
		super(e.message);
		this.status = status;
		this.error = e;
		this.headers = headers || {};
	}

	/* Returns the body, with request_log_url when the account is known. */
	body(requestLogUrl) {
		const e = this.error;
		const out = {};
		if (e.code !== undefined) {
			out.code = e.code;
			out.doc_url = 'https://stripe.com/docs/error-codes/' +
			    e.code.replace(/_/g, '-');
		}
		out.message = e.message;
		if (e.param !== undefined)
			out.param = e.param;
		if (requestLogUrl !== undefined)
			out.request_log_url = requestLogUrl;
		out.type = e.type;
		return { error: out };
	}
}

/* 400 invalid_request_error, optionally with code and param. */
function invalid(message, param, code) {
	return new ApiError(400, { type: 'invalid_request_error', message,
	    code, param });
}

/* 400 parameter_unknown: "Received unknown parameter: x". */
function unknownParameter(name) {
	return invalid('Received unknown parameter: ' + name, name,
	    'parameter_unknown');
}

/* 400 parameter_invalid_integer. */
function invalidInteger(param, message) {
	return invalid(message, param, 'parameter_invalid_integer');
}

/* 404 (retrieve) or 400 (a cursor or filter naming an unknown object)
 * resource_missing: "No such charge: 'ch_...'". */
function noSuch(what, id, param, status, suffix) {
	return new ApiError(status || 404, { type: 'invalid_request_error',
	    code: 'resource_missing', param: param || 'id',
	    message: 'No such ' + what + ": '" + id + "'" + (suffix || '') });
}

/* 401 for a missing key. */
function missingKey() {
	return new ApiError(401, { type: 'invalid_request_error',
	    message: 'You did not provide an API key. You need to provide your ' +
	    "API key in the Authorization header, using Bearer auth (e.g. " +
	    "'Authorization: Bearer YOUR_SECRET_KEY'). See " +
	    'https://stripe.com/docs/api#authentication for details, or we can ' +
	    'help at https://support.stripe.com/.' });
}

/*
 * Returns key as Stripe shows it in errors: a known prefix (sk_test_,
 * rk_live_, ...) kept, every other character but the last four replaced
 * by "*" (e.g. "sk_test_****************abcd"); a short string is all
 * stars.  Never returns more than the prefix and four characters.
 */
function maskKey(key) {
	const s = String(key);
	const m = /^(?:sk|rk|pk)_(?:test|live)_/.exec(s);
	const head = m ? m[0] : '';
	const rest = s.slice(head.length);
	if (rest.length <= 4)
		return head + '*'.repeat(rest.length);
	return head + '*'.repeat(rest.length - 4) + rest.slice(-4);
}

/* 401 for a key Stripe does not know. */
function invalidKey(key) {
	let message = 'Invalid API Key provided: ' + maskKey(key);
	if (/\s/.test(key))
		message += '. This key contains at least one space. Please delete ' +
		    'the spaces and try again.';
	return new ApiError(401, { type: 'invalid_request_error', message });
}

/* 403 for a restricted key without the permission an endpoint needs. */
function permission(key, accountId, perm) {
	return new ApiError(403, { type: 'invalid_request_error',
	    message: "The provided key '" + maskKey(key) + "' does not have " +
	    "the required permissions for this endpoint on account '" +
	    accountId + "'. Having the '" + perm + "' permission would allow " +
	    'this request to continue.' });
}

/* 429 rate_limit (see lib/limits.js for the header). */
function rateLimited() {
	return new ApiError(429, { type: 'invalid_request_error',
	    code: 'rate_limit', message: 'Request rate limit exceeded. Learn ' +
	    'more about rate limits here https://stripe.com/docs/rate-limits.' },
	    { 'Stripe-Should-Retry': 'false' });
}

/* 429 lock_timeout: another request holds the object; retry. */
function lockTimeout() {
	return new ApiError(429, { type: 'invalid_request_error',
	    code: 'lock_timeout', message: 'This object cannot be accessed ' +
	    'right now because another API request or Stripe process is ' +
	    'currently accessing it. If you see this error intermittently, ' +
	    'retry the request. If you see this error frequently and are ' +
	    'making multiple concurrent requests to a single object, make your ' +
	    'requests serially or at a lower rate.' },
	    { 'Stripe-Should-Retry': 'true' });
}

/* 500 api_error. */
function serverError() {
	return new ApiError(500, { type: 'api_error',
	    message: 'An unknown error occurred' });
}

/* 404 for a route Stripe does not have (or the simulator does not model). */
function unrecognizedUrl(method, path) {
	return new ApiError(404, { type: 'invalid_request_error',
	    message: 'Unrecognized request URL (' + method + ': ' + path +
	    '). Please see https://stripe.com/docs or we can help at ' +
	    'https://support.stripe.com/.' });
}

module.exports = { ApiError, invalid, unknownParameter, invalidInteger,
    noSuch, missingKey, maskKey, invalidKey, permission, rateLimited,
    lockTimeout, serverError, unrecognizedUrl };
