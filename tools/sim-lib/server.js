'use strict';
/*
 * The listener both simulators run: one HTTP server on 127.0.0.1 (never
 * another interface) handing each request on with its target as a URL,
 * internal errors answered 500, its origins, and a clean stop that drops
 * stalled connections too.
 */

const http = require('node:http');

/* The only address the simulators listen on. */
const HOST = '127.0.0.1';

/* Returns the URL of a request's target, or null when it is not one. */
function requestUrl(req) {
	try {
		return new URL(req.url, 'http://' + HOST);
	} catch (e) {
		return null;
	}
}

class LocalServer {
	/*
	 * Makes the server (not yet listening).  io:
	 *   sendJson(res, status, value)  the simulator's JSON answer
	 *   log(e)                        logs an internal error
	 *   internalBody()                the body of a 500
	 * Every request goes to route(req, res, url), an async function, url
	 * being its target as a URL; a target that is none is answered 400
	 * {error: "bad request target"}.  When route rejects, io.log(e) is
	 * called, then the request answered 500 with io.internalBody(), or
	 * its connection dropped when the answer had already begun.
	 */
	constructor(route, io) {
		this.server = http.createServer();
		this.port = null;
		const handle = async (req, res) => {
			const url = requestUrl(req);
			if (url === null)
				return io.sendJson(res, 400, { error: 'bad request target' });
			return route(req, res, url);
		};
		this.server.on('request', (req, res) => {
			handle(req, res).catch((e) => {
				io.log(e);
				if (!res.headersSent)
					io.sendJson(res, 500, io.internalBody());
				else
					res.destroy();
			});
		});
	}

	/*
	 * Starts listening on HOST:port (0 picks a free port).  Resolves to
	 * the base URL; rejects with the listen error (say EADDRINUSE).
	 */
	start(port) {
		return new Promise((resolve, reject) => {
			this.server.once('error', reject);
			this.server.listen(port, HOST, () => {
				this.port = this.server.address().port;
				resolve(this.url());
			});
		});
	}

	/* Returns the base URL, http://127.0.0.1:<port> (after start). */
	url() {
		return 'http://' + HOST + ':' + this.port;
	}

	/* Returns the simulator's own origins, the two names of its port. */
	origins() {
		return ['http://127.0.0.1:' + this.port,
		    'http://localhost:' + this.port];
	}

	/*
	 * Stops listening and drops every connection, idle, busy or stalled.
	 * Resolves once the server is closed.
	 */
	stop() {
		return new Promise((resolve) => {
			this.server.close(() => resolve());
			this.server.closeAllConnections();
		});
	}
}

module.exports = { HOST, LocalServer, requestUrl };
