'use strict';
/*
 * Filter parsing, comparison and paging, directly.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const q = require('../lib/query');

test('query suffixes split at the last underscore', () => {
	const r = q.parseQueryFilters(new URLSearchParams(
	    'balance_id_eq=bln_1&meta_data.app.key_eq=v&page=2&instance_id=i'));
	assert.equal(r.ok, true);
	assert.deepEqual(r.filters, [
		{ field: 'balance_id', op: 'eq', values: ['bln_1'] },
		{ field: 'meta_data.app.key', op: 'eq', values: ['v'] },
	]);
});

test('bad query filters are refused (table)', () => {
	for (const s of ['status=APPLIED', 'status_is=x', '_eq=1',
	    'amount_between=1', 'amount_between=1|2|3', 'a%20b_eq=1']) {
		const r = q.parseQueryFilters(new URLSearchParams(s));
		assert.equal(r.ok, false, s);
		assert.equal(typeof r.message, 'string');
	}
});

test('compare: exact integers, floats, dates, strings', () => {
	assert.ok(q.compare(9007199254740993n, '9007199254740992') > 0);
	assert.ok(q.compare('10', '9') > 0, 'numeric, not lexical');
	assert.ok(q.compare(1.5, '1.25') > 0);
	assert.ok(q.compare('2026-01-02T00:00:00.000Z', '2026-01-01') > 0);
	assert.ok(q.compare('b', 'a') > 0);
	assert.ok(Number.isNaN(q.compare(undefined, 'a')));
	assert.equal(q.compare(true, 'true'), 0);
});

test('LIKE: % and _ wildcards, regex characters are literal', () => {
	assert.ok(q.likeRegExp('pi_%', false).test('pi_123'));
	assert.ok(q.likeRegExp('a_c', false).test('abc'));
	assert.ok(!q.likeRegExp('a.c', false).test('abc'));
	assert.ok(q.likeRegExp('a.c', false).test('a.c'));
	assert.ok(!q.likeRegExp('ABC', false).test('abc'));
	assert.ok(q.likeRegExp('ABC', true).test('abc'));
	assert.ok(!q.likeRegExp('ab', false).test('abc'), 'LIKE is anchored');
});

test('applyFilters: missing fields never match eq/gt/like', () => {
	const items = [{ a: 1, m: { k: 'x' } }, { a: 2 }, { b: 3 }];
	const f = (field, op, values) => q.applyFilters(items,
	    [{ field, op, values }]).length;
	assert.equal(f('a', 'eq', ['1']), 1);
	assert.equal(f('a', 'gt', ['0']), 2);
	assert.equal(f('m.k', 'like', ['%']), 1);
	assert.equal(f('m.k.z', 'eq', ['x']), 0);
	assert.equal(f('a', 'in', ['2', '3']), 1);
});

test('paging defaults and limits', () => {
	assert.deepEqual(q.parsePaging(undefined, undefined),
	    { ok: true, page: 1, pageSize: q.DEFAULT_PAGE_SIZE });
	assert.equal(q.parsePaging('2', '100').ok, true);
	assert.equal(q.parsePaging('1', String(q.MAX_PAGE_SIZE + 1)).ok, false);
	assert.equal(q.parsePaging('-1', '5').ok, false);
	assert.deepEqual(q.pageOf([1, 2, 3, 4, 5], 2, 2), { data: [3, 4],
	    total: 5 });
});
