'use strict';
/*
 * The frame of a simulator's JSON control API under /_sim/: GETs answered
 * at once, POSTs refused when a web page on another site could have sent
 * them, their JSON object bodies read with a size cap.  What the calls
 * do, and which body types count as cross-site, is the simulator's.
 */

/*
 * Returns the media type of a request's Content-Type, in lower case and
 * without parameters ('' when there is none).
 */
function mediaType(req) {
	return String(req.headers['content-type'] || '')
	    .split(';')[0].trim().toLowerCase();
}

/*
 * Returns true when a request carries an Origin header that is not one
 * of origins (an opaque "null" included).  No Origin is not foreign: a
 * client that is not a web page (curl, a script) sends none.
 */
function foreignOrigin(req, origins) {
	const origin = req.headers.origin;
	return origin !== undefined && !origins.includes(origin);
}

class ControlApi {
	/*
	 * sim: the simulator's state, kept as this.sim for the subclass.
	 * io: how the simulator speaks:
	 *   sendJson(res, status, value)  writes a JSON answer
	 *   readBody(req)                 its body reader (with its size cap)
	 *   parseJsonObject(buf)          {ok, value} or {ok: false, message}
	 *   crossSite(req)                true when a POST must be refused
	 * A subclass supplies get(name, params), returning {status, body}, and
	 * post(name, body), returning {status, body} or a promise of it; it
	 * may replace answer() and posted().
	 */
	constructor(sim, io) {
		this.sim = sim;
		this.io = io;
	}

	/* Returns true for a path of the control API. */
	static owns(p) {
		return p.startsWith('/_sim/');
	}

	/*
	 * Handles one control call: a GET goes to get(); a POST is refused
	 * with 403 when crossSite, 413 past the body cap, 400 for a body that
	 * is not a JSON object, and otherwise goes to post(), then posted().
	 * Any other method is 405.
	 */
	async handle(req, res, url) {
		const { sendJson } = this.io;
		const name = url.pathname.slice('/_sim/'.length);
		if (req.method === 'GET')
			return this.answer(res, this.get(name, url.searchParams));
		if (req.method !== 'POST')
			return sendJson(res, 405, { error: 'method not allowed' });
		if (this.io.crossSite(req))
			return sendJson(res, 403, { error: 'cross-site request ' +
			    'refused; send Content-Type: application/json' });
		let buf;
		try {
			buf = await this.io.readBody(req);
		} catch (e) {
			return sendJson(res, 413, { error: e.message });
		}
		const p = this.io.parseJsonObject(buf);
		if (!p.ok)
			return sendJson(res, 400, { error: p.message });
		const out = await this.post(name, p.value);
		this.posted();
		return this.answer(res, out);
	}

	/* Writes a call's {status, body}. */
	answer(res, r) {
		this.io.sendJson(res, r.status, r.body);
	}

	/* Called after each POST that post() answered (default: nothing). */
	posted() {
	}
}

module.exports = { ControlApi, mediaType, foreignOrigin };
