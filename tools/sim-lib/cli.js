'use strict';
/*
 * The command-line frame both simulators share: strict and integer
 * options, the exits for a bad command line and for a failure, and
 * running until a signal (the readiness line, the --ready-file, a clean
 * stop).
 */

const fs = require('node:fs');
const { parseArgs } = require('node:util');

/*
 * Returns the values of the options (node:util parseArgs options) in
 * argv.  Strict: an unknown option, a missing value or a positional
 * argument throws an Error that names it.
 */
function parseOptions(argv, options) {
	return parseArgs({ args: argv, options, strict: true,
	    allowPositionals: false }).values;
}

/*
 * Returns the integer in s (decimal digits only) when it lies in
 * [min, max]; else throws an Error naming --name and the range.
 */
function intOption(name, s, min, max) {
	if (!/^[0-9]+$/.test(s) || Number(s) < min || Number(s) > max)
		throw new Error('--' + name + ' must be an integer ' + min + '..' +
		    max);
	return Number(s);
}

/*
 * Prints "<name>: <message>" and the usage to stderr and exits 2: what a
 * bad command line gets.
 */
function exitUsage(name, usage, message) {
	process.stderr.write(name + ': ' + message + '\n' + usage + '\n');
	process.exit(2);
}

/*
 * Writes url and a newline to file atomically: into a temporary file
 * beside it, then renamed over it, so a reader never sees half of it.
 */
function writeReadyFile(file, url) {
	const tmp = file + '.' + process.pid + '.tmp';
	fs.writeFileSync(tmp, url + '\n');
	fs.renameSync(tmp, file);
}

/*
 * Announces a started simulator and keeps it until SIGINT or SIGTERM:
 * writes readyFile (when given), prints "<name> listening on <url>" to
 * stdout.  The first signal removes readyFile and calls sim.stop() (a
 * promise), then exits 0; a stop that throws or does not finish within
 * 2 s exits 0 all the same.
 */
function serveUntilSignal(name, sim, url, readyFile) {
	if (readyFile)
		writeReadyFile(readyFile, url);
	process.stdout.write(name + ' listening on ' + url + '\n');
	const shutdown = () => {
		setTimeout(() => process.exit(0), 2000).unref();
		try {
			if (readyFile)
				fs.rmSync(readyFile, { force: true });
		} catch (e) { /* exiting anyway */ }
		Promise.resolve().then(() => sim.stop()).catch(() => {})
		    .then(() => process.exit(0));
	};
	process.once('SIGINT', shutdown);
	process.once('SIGTERM', shutdown);
}

/*
 * Runs main(), an async function, when mod is the program that node
 * started (not when it is required, as the tests do).  A failure prints
 * "<name>: <error code or message>" to stderr and exits 1.
 */
function runMain(mod, name, main) {
	if (require.main !== mod)
		return;
	main().catch((e) => {
		process.stderr.write(name + ': ' + (e.code || e.message) + '\n');
		process.exit(1);
	});
}

module.exports = { parseOptions, intOption, exitUsage, writeReadyFile, serveUntilSignal,
    runMain };
