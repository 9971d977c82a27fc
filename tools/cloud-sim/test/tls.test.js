'use strict';
/*
 * Calls to an https app with a self-signed certificate: refused by
 * default, accepted with --ca-file (the certificate) or --insecure.
 * Skipped when the openssl command is not installed.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { spawnSync } = require('node:child_process');
const { createSimulator } = require('../lib/server');
const h = require('../testlib/helpers');

/* Makes a self-signed certificate for 127.0.0.1; returns {key, cert}. */
function selfSigned(dir) {
	const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048',
	    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
	    '-addext', 'subjectAltName=IP:127.0.0.1',
	    '-keyout', path.join(dir, 'key.pem'),
	    '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
	if (r.status !== 0)
		return null;
	return { key: fs.readFileSync(path.join(dir, 'key.pem')),
	    cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
}

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

test('https app: self-signed refused, --ca-file and --insecure accepted',
    { skip: haveOpenssl ? false : 'openssl not installed' }, async (t) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-sim-tls-'));
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const pem = selfSigned(dir);
	assert.ok(pem, 'openssl failed');
	const seen = [];
	const app = https.createServer(pem, (req, res) => {
		seen.push(req.url);
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{}');
	});
	await new Promise((r) => app.listen(0, '127.0.0.1', r));
	t.after(() => new Promise((r) => {
		app.close(() => r());
		app.closeAllConnections();
	}));
	const base = 'https://127.0.0.1:' + app.address().port;
	const cases = [
		['no trust', {}, 'failed'],
		['ca file', { ca: pem.cert }, 'installed'],
		['insecure', { insecure: true }, 'installed'],
	];
	for (const [name, trust, want] of cases) {
		const sim = createSimulator(Object.assign({ manifestPath: h.MANIFEST,
		    appBase: base, callbackSecret: h.SECRET, log: () => {} },
		    trust));
		assert.equal(sim.cloud.register().status, 200, name);
		const r = await sim.cloud.install(['data:read']);
		await sim.stop();
		assert.equal(r.body.status, want, name + ': ' + r.body.error);
		if (want === 'failed')
			assert.match(r.body.error, /connection failed: [A-Z_]+/);
	}
	assert.equal(seen.length, 2);
	assert.equal(seen[0], '/api/callback/' + h.SECRET);
});
