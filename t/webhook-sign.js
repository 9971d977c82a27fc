#!/usr/bin/env node
'use strict';
/*
 * t/webhook-sign.js SECRET FILE [TIMESTAMP]: print the Stripe-Signature
 * header that Stripe's official Node library (npm "stripe", pinned in
 * tools/stripe-sim/test/package-lock.json and installed there by
 * tools/test's npm ci) makes for the raw bytes of FILE under the endpoint
 * secret SECRET, signed at TIMESTAMP (unix seconds; default now), with
 * stripe.webhooks.generateTestHeaderString: the tests never sign with
 * code of their own.  Exits 3 when the package is not installed.
 */

const fs = require('node:fs');
const path = require('node:path');

const [secret, file, ts] = process.argv.slice(2);
if (secret === undefined || file === undefined) {
	process.stderr.write('usage: webhook-sign.js SECRET FILE [TIMESTAMP]\n');
	process.exit(2);
}
const top = process.env.top_srcdir || path.join(__dirname, '..');
let Stripe;
try {
	Stripe = require(require.resolve('stripe',
	    { paths: [path.join(top, 'tools', 'stripe-sim', 'test')] }));
} catch (e) {
	process.stderr.write('webhook-sign.js: the stripe npm package is not ' +
	    'installed (cd tools/stripe-sim/test && npm ci)\n');
	process.exit(3);
}
/* The key is never used: generateTestHeaderString is local. */
const stripe = Stripe('sk_test_unused');
const opts = { payload: fs.readFileSync(file, 'utf8'), secret };
if (ts !== undefined)
	opts.timestamp = Number(ts);
process.stdout.write(stripe.webhooks.generateTestHeaderString(opts) + '\n');
