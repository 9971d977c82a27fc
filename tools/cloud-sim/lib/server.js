'use strict';
/*
 * The simulator's HTTP server: one listener on 127.0.0.1 serving the
 * dashboard (/, /dashboard...), the control API (/_sim/...) and the
 * gateway (/proxy, /data, /<resource>/filter, /alerts).
 */

const fs = require('node:fs');
const { Cloud } = require('./installs');
const { Gateway, isGatewayPath } = require('./gateway');
const { Dashboard } = require('./dashboard');
const { Control } = require('./control');
const { Faults } = require('./faults');
const { Outbound } = require('./http-client');
const { sendJson, jsonStringify } = require('./http-util');
const { parseJson } = require('./json');
const { HOST, LocalServer } = require('../../sim-lib/server');

/*
 * The --state-file: the Cloud's state, written atomically (a temporary
 * file renamed over the old one) shortly after each change, and read at
 * start.  Without a path it does nothing.
 */
class StateFile {
	constructor(file, log) {
		this.file = file;
		this.log = log;
		this.timer = null;
		this.source = null;
		this.closed = false;
	}

	/* Notes a change: writes within 20 ms. */
	touch() {
		if (this.file === undefined || this.timer !== null || this.closed ||
		    this.source === null)
			return;
		this.timer = setTimeout(() => this.flush(), 20);
	}

	/* Writes now if a write is due. */
	flush() {
		if (this.timer === null)
			return;
		clearTimeout(this.timer);
		this.timer = null;
		const tmp = this.file + '.' + process.pid + '.tmp';
		try {
			fs.writeFileSync(tmp, jsonStringify(this.source.toState()) + '\n',
			    { mode: 0o600 });
			fs.renameSync(tmp, this.file);
		} catch (e) {
			this.log('cannot write the state file: ' + e.code);
		}
	}

	/* Stops writing (the simulator is stopping). */
	close() {
		this.closed = true;
	}

	/* Reads the file into cloud, if it exists; throws when it is bad. */
	load(cloud) {
		let text;
		try {
			text = fs.readFileSync(this.file, 'utf8');
		} catch (e) {
			if (e.code === 'ENOENT')
				return;
			throw new Error('cannot read the state file: ' + e.code);
		}
		let st;
		try {
			st = parseJson(text).value;
		} catch (e) {
			throw new Error('the state file is not valid JSON');
		}
		cloud.loadState(st);
		this.log('state loaded from ' + this.file);
	}
}

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
 *   stateFile          keep the state in this file (read at start,
 *                      written atomically, mode 0600, after each change)
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
	const state = new StateFile(o.stateFile, log);
	const cloud = new Cloud(Object.assign({}, o, { outbound, log,
	    onChange: () => state.touch() }));
	state.source = cloud;
	if (o.stateFile !== undefined)
		state.load(cloud);
	const faults = new Faults();
	const gateway = new Gateway(cloud, faults);
	/* The listener (tools/sim-lib/server.js): a bad target is 400, an
	 * internal error a 500 without details. */
	const server = new LocalServer(route, { sendJson,
		log: (e) => log('internal error: ' +
		    cloud.mask(String(e && e.stack))),
		internalBody: () => ({ error: 'internal simulator error' }),
	});
	const origins = () => server.origins();
	/* Connections that carried gateway calls, and those calls: an app
	 * that keeps its connections warm opens one and makes many. */
	const conns = { gateway_connections: 0, gateway_requests: 0 };
	const counted = new WeakSet();
	const sim = { cloud, gateway, faults, origins, state, conns };
	const dashboard = new Dashboard(cloud, gateway, origins);
	const control = new Control(sim);

	/* Routes one request to url. */
	async function route(req, res, url) {
		const p = url.pathname;
		if (Control.owns(p))
			return control.handle(req, res, url);
		if (isGatewayPath(p)) {
			conns.gateway_requests++;
			if (!counted.has(req.socket)) {
				counted.add(req.socket);
				conns.gateway_connections++;
			}
			return gateway.handle(req, res, url);
		}
		if (Dashboard.owns(p))
			return dashboard.handle(req, res, url);
		return sendJson(res, 404, { error: 'not found',
		    error_detail: { code: 'GEN_NOT_FOUND', message: 'not found' } });
	}

	return {
		cloud, gateway, faults, state,

		/* Starts listening; resolves to the base URL. */
		start() {
			return server.start(o.port);
		},

		/* Returns the base URL (after start). */
		url() {
			return server.url();
		},

		/*
		 * Stops: cancels queued Core work and outbound calls, drops every
		 * connection (stalled ones too).  Resolves when closed.
		 */
		stop() {
			state.flush();
			state.close();
			cloud.stop();
			return server.stop();
		},
	};
}

module.exports = { createSimulator, HOST };
