'use strict';
/*
 * The simulator's HTTP server: one listener on 127.0.0.1 serving the
 * dashboard (/, /dashboard...), the control API (/_sim/...) and the
 * gateway (/proxy, /data, /<resource>/filter, /alerts).
 */

const http = require('node:http');
const { Cloud } = require('./installs');
const { Gateway, isGatewayPath } = require('./gateway');
const { Dashboard } = require('./dashboard');
const { Control } = require('./control');
const { Faults } = require('./faults');
const { Outbound } = require('./http-client');
const { sendJson } = require('./http-util');

const HOST = '127.0.0.1';

/*
 * Creates a simulator (not yet listening).  opts:
 *   port               0 picks a free port
 *   manifestPath       the app's manifest.json
 *   appBase            replaces https://YOUR-HOST in the manifest
 *   callbackSecret     replaces <callback_secret> (never logged)
 *   allowHttp          accept http:// app URLs on loopback (tests)
 *   ca / insecure      trust for the app's TLS certificate
 *   callbackTimeoutMs  deadline for install/uninstall/launch (10000)
 *   queueDelayMs       Core queue delay (50)
 *   exposeKeys         /_sim/install also returns the full api_key (tests)
 *   instanceId         fixed id of the default instance
 *   log(line)          log sink (default: stderr)
 * Returns {start(), stop(), url(), cloud, gateway, faults}.
 */
function createSimulator(opts) {
	const o = Object.assign({ port: 0, queueDelayMs: 50,
	    callbackTimeoutMs: 10000 }, opts);
	const log = o.log || ((line) => process.stderr.write('cloud-sim: ' +
	    line + '\n'));
	const outbound = new Outbound({ timeoutMs: o.callbackTimeoutMs,
	    ca: o.ca, insecure: o.insecure });
	const cloud = new Cloud(Object.assign({}, o, { outbound, log }));
	const faults = new Faults();
	const gateway = new Gateway(cloud, faults);
	const server = http.createServer();
	let port = null;
	const origins = () => ['http://127.0.0.1:' + port,
	    'http://localhost:' + port];
	const sim = { cloud, gateway, faults, origins };
	const dashboard = new Dashboard(cloud, gateway, origins);
	const control = new Control(sim);

	/* Routes one request; errors become a 500 without details. */
	async function route(req, res) {
		let url;
		try {
			url = new URL(req.url, 'http://' + HOST);
		} catch (e) {
			return sendJson(res, 400, { error: 'bad request target' });
		}
		const p = url.pathname;
		if (Control.owns(p))
			return control.handle(req, res, url);
		if (isGatewayPath(p))
			return gateway.handle(req, res, url);
		if (Dashboard.owns(p))
			return dashboard.handle(req, res, url);
		return sendJson(res, 404, { error: 'not found',
		    error_detail: { code: 'GEN_NOT_FOUND', message: 'not found' } });
	}

	server.on('request', (req, res) => {
		route(req, res).catch((e) => {
			log('internal error: ' + cloud.mask(String(e && e.stack)));
			if (!res.headersSent)
				sendJson(res, 500, { error: 'internal simulator error' });
			else
				res.destroy();
		});
	});

	return {
		cloud, gateway, faults,

		/* Starts listening; resolves to the base URL. */
		start() {
			return new Promise((resolve, reject) => {
				server.once('error', reject);
				server.listen(o.port, HOST, () => {
					port = server.address().port;
					resolve('http://' + HOST + ':' + port);
				});
			});
		},

		/* Returns the base URL (after start). */
		url() {
			return 'http://' + HOST + ':' + port;
		},

		/*
		 * Stops: cancels queued Core work and outbound calls, drops every
		 * connection (stalled ones too).  Resolves when closed.
		 */
		stop() {
			cloud.stop();
			return new Promise((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		},
	};
}

module.exports = { createSimulator, HOST };
