'use strict';
/*
 * Outbound calls from the simulated Cloud to the app (install, uninstall,
 * launch).  One POST with a JSON body and a hard deadline covering the
 * whole exchange.  Results never carry the URL (it holds the callback
 * secret) and never reject: failures come back as {ok: false, error}.
 */

const http = require('node:http');
const https = require('node:https');

/* Largest answer body we keep from the app (bytes). */
const MAX_ANSWER = 64 * 1024;

class Outbound {
	/*
	 * opts.timeoutMs: deadline for the whole exchange (default 10000).
	 * opts.ca: PEM text of a CA or certificate to trust (preferred).
	 * opts.insecure: accept any certificate (self-signed dev certs).
	 */
	constructor(opts) {
		const o = opts || {};
		this.timeoutMs = o.timeoutMs || 10000;
		this.ca = o.ca;
		this.insecure = o.insecure === true;
		this.inflight = new Set();
	}

	/* Aborts every call in flight (the simulator is shutting down). */
	stop() {
		for (const req of this.inflight)
			req.destroy(new Error('simulator shutting down'));
		this.inflight.clear();
	}

	/* Returns the request options for a URL object. */
	requestOptions(u, body) {
		const o = {
			method: 'POST',
			headers: {
				'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(body),
				'User-Agent': 'blnk-cloud-sim/1',
				Accept: 'application/json',
			},
		};
		if (u.protocol === 'https:') {
			if (this.ca)
				o.ca = this.ca;
			if (this.insecure)
				o.rejectUnauthorized = false;
		}
		return o;
	}

	/*
	 * POSTs obj as JSON to url.  Resolves to {ok, status, body, text,
	 * error, timed_out, duration_ms}; ok means a 2xx within the deadline.
	 * body is the parsed JSON answer or null.
	 */
	post(url, obj) {
		const started = Date.now();
		const payload = JSON.stringify(obj);
		return new Promise((resolve) => {
			let u;
			try {
				u = new URL(url);
			} catch (e) {
				resolve(this.failure(started, 'bad URL'));
				return;
			}
			const mod = u.protocol === 'https:' ? https : http;
			let settled = false;
			const finish = (r) => {
				if (settled)
					return;
				settled = true;
				clearTimeout(timer);
				this.inflight.delete(req);
				resolve(r);
			};
			const req = mod.request(u, this.requestOptions(u, payload),
			    (res) => this.collect(res, started, finish));
			const timer = setTimeout(() => {
				finish(Object.assign(this.failure(started,
				    'no answer within ' + this.timeoutMs + ' ms'),
				    { timed_out: true }));
				req.destroy();
			}, this.timeoutMs);
			req.on('error', (e) => finish(this.failure(started,
			    describeError(e))));
			this.inflight.add(req);
			req.end(payload);
		});
	}

	/* Reads an answer (capped) and hands the result to finish. */
	collect(res, started, finish) {
		const chunks = [];
		let size = 0;
		res.on('data', (c) => {
			size += c.length;
			if (size <= MAX_ANSWER)
				chunks.push(c);
		});
		res.on('error', (e) => finish(this.failure(started,
		    describeError(e))));
		res.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8');
			let body = null;
			try {
				body = JSON.parse(text);
			} catch (e) {
				body = null;
			}
			const ok = res.statusCode >= 200 && res.statusCode < 300;
			finish({
				ok, status: res.statusCode, body, text,
				error: ok ? null : 'app answered HTTP ' + res.statusCode,
				timed_out: false, duration_ms: Date.now() - started,
			});
		});
	}

	/* Returns a failed result with a message (never the URL). */
	failure(started, message) {
		return { ok: false, status: 0, body: null, text: '',
		    error: message, timed_out: false,
		    duration_ms: Date.now() - started };
	}
}

/*
 * Returns a short description of a socket or TLS error: its code, which
 * never contains the URL path (and so never the callback secret).
 */
function describeError(e) {
	if (e && typeof e.code === 'string')
		return 'connection failed: ' + e.code;
	return 'connection failed';
}

module.exports = { Outbound, describeError };
