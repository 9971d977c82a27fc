#!/usr/bin/env node
'use strict';
/*
 * cloud-sim: a local Blnk Cloud for stripe-sync's demo and tests.
 * This file parses the command line, starts the server on 127.0.0.1,
 * announces readiness (stdout line and --ready-file) and stops cleanly
 * on SIGINT/SIGTERM (integer options, readiness and the stop are
 * tools/sim-lib/cli.js, shared with stripe-sim).  See README.md.
 */

const fs = require('node:fs');
const path = require('node:path');
const { createSimulator } = require('./lib/server');
const { parseOptions, intOption, exitUsage, serveUntilSignal, runMain } =
    require('../sim-lib/cli');

const USAGE = `usage: cloud-sim.js [options]
  --port N                  listen on 127.0.0.1:N (0 = pick a free port; default 0)
  --manifest PATH           app manifest (default: the repo's manifest.json)
  --app-base URL            origin that replaces https://YOUR-HOST
  --callback-secret-file F  file holding the callback secret
                            (or env CLOUD_SIM_CALLBACK_SECRET)
  --ca-file PATH            trust this CA/certificate for the app's TLS
  --insecure                accept any certificate from the app (prefer --ca-file)
  --allow-http              allow http:// app URLs on loopback
  --ready-file PATH         write "http://127.0.0.1:<port>\\n" once listening
  --callback-timeout-ms N   deadline for install/uninstall/launch (default 10000)
  --queue-delay-ms N        Core queue delay before <ref>_q appears (default 50)
  --instance-id ID          fixed id of the default instance (inst_...)
  --state-file PATH         keep the state in PATH across restarts
                            (holds api keys: written 0600)
  --register                register the app from the manifest at start-up
  --quiet                   no log lines on stderr
  --help`;

const OPTIONS = {
	port: { type: 'string', default: '0' },
	manifest: { type: 'string' },
	'app-base': { type: 'string' },
	'callback-secret-file': { type: 'string' },
	'ca-file': { type: 'string' },
	insecure: { type: 'boolean', default: false },
	'allow-http': { type: 'boolean', default: false },
	'ready-file': { type: 'string' },
	'callback-timeout-ms': { type: 'string', default: '10000' },
	'queue-delay-ms': { type: 'string', default: '50' },
	'instance-id': { type: 'string' },
	'state-file': { type: 'string' },
	register: { type: 'boolean', default: false },
	quiet: { type: 'boolean', default: false },
	help: { type: 'boolean', default: false },
};

/* Returns the callback secret from the file or the environment. */
function readSecret(file, env) {
	if (file === undefined)
		return env.CLOUD_SIM_CALLBACK_SECRET || undefined;
	let s;
	try {
		s = fs.readFileSync(file, 'utf8').replace(/\s+$/, '');
	} catch (e) {
		throw new Error('cannot read --callback-secret-file: ' + e.code);
	}
	if (s === '')
		throw new Error('--callback-secret-file is empty');
	return s;
}

/* Returns the app base URL without a trailing slash; throws if bad. */
function appBaseOption(s) {
	if (s === undefined)
		return undefined;
	let u;
	try {
		u = new URL(s);
	} catch (e) {
		throw new Error('--app-base is not a URL');
	}
	if (u.protocol !== 'https:' && u.protocol !== 'http:')
		throw new Error('--app-base must be http(s)');
	return s.replace(/\/+$/, '');
}

/*
 * Turns argv and env into simulator options.  Returns {help: true} or
 * {opts, readyFile, register}; throws Error with a message on bad input.
 */
function parseCommandLine(argv, env) {
	const values = parseOptions(argv, OPTIONS);
	if (values.help)
		return { help: true };
	const opts = {
		port: intOption('port', values.port, 0, 65535),
		manifestPath: values.manifest ||
		    path.join(__dirname, '..', '..', 'manifest.json'),
		appBase: appBaseOption(values['app-base']),
		callbackSecret: readSecret(values['callback-secret-file'], env),
		allowHttp: values['allow-http'],
		callbackTimeoutMs: intOption('callback-timeout-ms',
		    values['callback-timeout-ms'], 1, 600000),
		queueDelayMs: intOption('queue-delay-ms',
		    values['queue-delay-ms'], 0, 600000),
		exposeKeys: env.CLOUD_SIM_EXPOSE_KEYS === '1',
		instanceId: values['instance-id'],
		stateFile: values['state-file'],
	};
	if (opts.instanceId !== undefined && !/^inst_\w+$/.test(opts.instanceId))
		throw new Error('--instance-id must look like inst_...');
	if (values['ca-file'] !== undefined) {
		try {
			opts.ca = fs.readFileSync(values['ca-file'], 'utf8');
		} catch (e) {
			throw new Error('cannot read --ca-file: ' + e.code);
		}
	} else
		opts.insecure = values.insecure;
	if (values.quiet)
		opts.log = () => {};
	return { opts, readyFile: values['ready-file'],
	    register: values.register };
}

/* Runs the simulator until a signal arrives. */
async function main() {
	let cl;
	try {
		cl = parseCommandLine(process.argv.slice(2), process.env);
	} catch (e) {
		exitUsage('cloud-sim', USAGE, e.message);
	}
	if (cl.help) {
		process.stdout.write(USAGE + '\n');
		return;
	}
	if (cl.opts.exposeKeys)
		process.stderr.write('cloud-sim: CLOUD_SIM_EXPOSE_KEYS=1: full ' +
		    'api keys are returned by /_sim/install (tests only)\n');
	const sim = createSimulator(cl.opts);
	const url = await sim.start();
	if (cl.register) {
		const r = sim.cloud.register();
		if (r.status !== 200) {
			process.stderr.write('cloud-sim: register: ' + r.body.error +
			    '\n');
			await sim.stop();
			process.exit(1);
		}
	}
	serveUntilSignal('cloud-sim', sim, url, cl.readyFile);
}

runMain(module, 'cloud-sim', main);

module.exports = { parseCommandLine };
