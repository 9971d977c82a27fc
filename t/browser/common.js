'use strict';
/*
 * t/browser/common.js: what every browser test script needs: its
 * environment, a check that throws, and Debian's Chromium launched with the
 * flags this workplace's closed network needs (no background networking,
 * no component updates or sync, no QUIC), as root without its sandbox.
 */
const { chromium } = require('playwright-core');

const env = (k) => {
	if (!process.env[k])
		throw new Error(`${k} is not set`);
	return process.env[k];
};

function check(cond, what) {
	if (!cond)
		throw new Error(what);
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync'];

function launch() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ARGS,
	});
}

module.exports = { env, check, launch };
