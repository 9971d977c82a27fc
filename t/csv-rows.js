'use strict';
/*
 * node t/csv-rows.js FILE: reads a CSV file strictly by RFC 4180 (fields
 * separated by commas, records ended by CRLF, quoted fields with quotes
 * doubled) and prints its records as a JSON array of arrays.  Fails on a
 * record whose field count differs from the header's, on a quote inside
 * an unquoted field, or on a last record without its CRLF.
 */
const fs = require('node:fs');

function parse(t) {
	const rows = [];
	let row = [], f = '', quoted = false, i = 0, started = false;
	while (i < t.length) {
		const c = t[i];
		if (quoted) {
			if (c === '"' && t[i + 1] === '"') {
				f += '"';
				i += 2;
			} else if (c === '"') {
				quoted = false;
				i++;
			} else
				f += t[i++];
			continue;
		}
		if (c === '"') {
			if (started && f !== '')
				throw new Error('a quote inside an unquoted field');
			quoted = true;
			started = true;
			i++;
		} else if (c === ',') {
			row.push(f);
			f = '';
			started = false;
			i++;
		} else if (c === '\r' && t[i + 1] === '\n') {
			row.push(f);
			rows.push(row);
			row = [];
			f = '';
			started = false;
			i += 2;
		} else if (c === '\n' || c === '\r')
			throw new Error('a line break that is not CRLF');
		else {
			f += c;
			started = true;
			i++;
		}
	}
	if (quoted || f !== '' || row.length > 0)
		throw new Error('the last record has no CRLF');
	if (rows.length > 0 && rows.some((r) => r.length !== rows[0].length))
		throw new Error('a record with another number of fields');
	return rows;
}

process.stdout.write(JSON.stringify(parse(fs.readFileSync(process.argv[2],
    'utf8'))) + '\n');
