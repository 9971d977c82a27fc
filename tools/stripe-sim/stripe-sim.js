#!/usr/bin/env node
'use strict';
/*
 * stripe-sim: a local Stripe (the read API stripe-sync imports from) for
 * the demo and the tests.  This file parses the command line, loads the
 * keys, starts the server on 127.0.0.1, announces readiness (stdout line
 * and --ready-file) and stops cleanly on SIGINT/SIGTERM (integer options,
 * readiness and the stop are tools/sim-lib/cli.js, shared with
 * cloud-sim).  See README.md.
 */

const { createSimulator, checkData, DEFAULT_CURRENCIES, MAX_COUNT } =
    require('./lib/server');
const { KeyStore } = require('./lib/keys');
const { parseOptions, intOption, exitUsage, serveUntilSignal, runMain } =
    require('../sim-lib/cli');

const USAGE = `usage: stripe-sim.js [options]
  --port N             listen on 127.0.0.1:N (0 = pick a free port; default 0)
  --ready-file PATH    write "http://127.0.0.1:<port>\\n" once listening
  --keys-file PATH     API keys: {"test": [...], "live": [...]}; made (0600)
                       with a new test and live key when PATH does not exist
  --seed S             what to generate from (default "stripe-sim")
  --count N            balance transactions to generate a mode (default 300,
                       at most ${MAX_COUNT})
  --currencies A,B,..  the account's balance currencies, the first the default
                       (default ${DEFAULT_CURRENCIES.join(',')})
  --now UNIX           the generator's now and the clock's start (default:
                       the real time)
  --rate N             requests a second per mode (default 25 in test mode,
                       100 in live mode; 0 = no limit)
  --quiet              no log lines on stderr
  --help`;

const OPTIONS = {
	port: { type: 'string', default: '0' },
	'ready-file': { type: 'string' },
	'keys-file': { type: 'string' },
	seed: { type: 'string', default: 'stripe-sim' },
	count: { type: 'string', default: '300' },
	currencies: { type: 'string', default: DEFAULT_CURRENCIES.join(',') },
	now: { type: 'string' },
	rate: { type: 'string' },
	quiet: { type: 'boolean', default: false },
	help: { type: 'boolean', default: false },
};

/*
 * Turns argv into simulator options.  Returns {help: true} or {opts,
 * readyFile, keysFile}; throws Error with a message on bad input.
 */
function parseCommandLine(argv) {
	const values = parseOptions(argv, OPTIONS);
	if (values.help)
		return { help: true };
	const opts = {
		port: intOption('port', values.port, 0, 65535),
		seed: values.seed,
		count: intOption('count', values.count, 0, MAX_COUNT),
		currencies: values.currencies.split(','),
	};
	if (values.now !== undefined)
		opts.now = intOption('now', values.now, 0, 4102444800);
	if (values.rate !== undefined) {
		const r = intOption('rate', values.rate, 0, 100000);
		opts.rates = { test: r, live: r };
	}
	const msg = checkData(opts);
	if (msg !== null)
		throw new Error('--' + msg);
	if (values.quiet)
		opts.log = () => {};
	return { opts, readyFile: values['ready-file'],
	    keysFile: values['keys-file'] };
}

/* Runs the simulator until a signal arrives. */
async function main() {
	let cl;
	const keys = new KeyStore();
	let created = false;
	try {
		cl = parseCommandLine(process.argv.slice(2));
		if (!cl.help && cl.keysFile !== undefined)
			created = keys.loadFile(cl.keysFile).created;
	} catch (e) {
		exitUsage('stripe-sim', USAGE, e.message);
	}
	if (cl.help) {
		process.stdout.write(USAGE + '\n');
		return;
	}
	const log = cl.opts.log || ((line) => process.stderr.write(
	    'stripe-sim: ' + line + '\n'));
	if (created)
		log('wrote a new test and live key to ' + cl.keysFile);
	if (cl.keysFile === undefined)
		log('no --keys-file: no API key works until one is added with ' +
		    'POST /_sim/keys');
	const sim = createSimulator(Object.assign({}, cl.opts, { keys, log }));
	const url = await sim.start();
	serveUntilSignal('stripe-sim', sim, url, cl.readyFile);
}

runMain(module, 'stripe-sim', main);

module.exports = { parseCommandLine };
