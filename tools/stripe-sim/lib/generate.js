'use strict';
/*
 * The generator: from a seed, an account's history in one mode, as a
 * timeline of events run in time order (charges, some in bursts within
 * one second; refunds and disputes some time after their charge; dispute
 * reviews and outcomes; Stripe fees; one automatic payout per currency a
 * day at 01:00 UTC; payout failures a while after arrival).  It stops at
 * exactly `count` balance transactions, then moves the whole history by
 * whole days so that its last second is at or just before `now` (whole
 * days keep payouts at 01:00 and available_on at midnight).
 *
 * Same seed, count, currencies and now: the same objects, byte for byte.
 * activity() adds more at run time, all in the current second.
 */

const { Rng } = require('./rng');
const { World, DAY, dayStart } = require('./world');

/* A binary min-heap of events ordered by (t, order of scheduling). */
class Timeline {
	constructor() {
		this.heap = [];
		this.n = 0;
	}

	/* Schedules ev ({t, kind, ...}). */
	add(ev) {
		ev.order = this.n++;
		const h = this.heap;
		h.push(ev);
		let i = h.length - 1;
		while (i > 0) {
			const p = (i - 1) >> 1;
			if (!this.less(h[i], h[p]))
				break;
			[h[i], h[p]] = [h[p], h[i]];
			i = p;
		}
	}

	less(a, b) {
		return a.t < b.t || (a.t === b.t && a.order < b.order);
	}

	/* Removes and returns the earliest event (undefined when empty). */
	pop() {
		const h = this.heap;
		if (h.length === 0)
			return undefined;
		const top = h[0];
		const last = h.pop();
		if (h.length > 0) {
			h[0] = last;
			let i = 0;
			for (;;) {
				const l = 2 * i + 1, r = l + 1;
				let m = i;
				if (l < h.length && this.less(h[l], h[m]))
					m = l;
				if (r < h.length && this.less(h[r], h[m]))
					m = r;
				if (m === i)
					break;
				[h[i], h[m]] = [h[m], h[i]];
				i = m;
			}
		}
		return top;
	}
}

/* Returns the number of days a history of count transactions spans. */
function spanDays(count) {
	return Math.min(60, Math.max(10, Math.ceil(count / 25)));
}

/*
 * Generates one mode's account.  opts: mode, seed, count (balance
 * transactions, exactly), currencies (the first is the default), now (unix
 * seconds).  Returns a World.
 */
function generate(opts) {
	const rng = new Rng('stripe-sim\0' + opts.seed + '\0' + opts.mode);
	const world = new World({ mode: opts.mode, rng,
	    currencies: opts.currencies });
	const count = opts.count;
	const days = spanDays(count);
	const t0 = dayStart(opts.now) - days * DAY;
	const ncur = world.currencies.length;
	/* Charge arrivals a day such that, with the bursts (1.48 charges an
	 * arrival on average), refunds, disputes, fees and the payouts, the
	 * history fills about `days` days. */
	const perDay = Math.max(1, (count / days - ncur) / 1.2 / 1.48);
	const chargeGap = DAY / perDay;
	const feeGap = DAY * days / Math.max(1, count * 0.01);
	const tl = new Timeline();
	const more = () => world.btCount < count;

	tl.add({ t: t0 + Math.floor(rng.exponential(chargeGap)), kind: 'charge' });
	tl.add({ t: t0 + DAY + 3600, kind: 'payout' });
	tl.add({ t: t0 + Math.floor(rng.exponential(feeGap)), kind: 'fee' });
	/* One flash sale: many charges in one second. */
	tl.add({ t: t0 + rng.int(DAY, days * DAY), kind: 'charge',
	    burst: Math.min(200, Math.max(3, Math.floor(count / 25))) });

	/* Schedules what may follow a succeeded charge. */
	const follow = (ch) => {
		const x = rng.float();
		if (x < 0.12)
			tl.add({ t: ch.created + 1 + Math.floor(rng.exponential(
			    3 * DAY)), kind: 'refund', charge: ch });
		else if (x < 0.14)
			tl.add({ t: ch.created + DAY + Math.floor(rng.exponential(
			    5 * DAY)), kind: 'dispute', charge: ch });
	};

	let ev;
	while (more() && (ev = tl.pop()) !== undefined) {
		const t = ev.t;
		switch (ev.kind) {
		case 'charge': {
			const k = ev.burst || (rng.chance(0.08) ? rng.int(2, 12) : 1);
			for (let i = 0; i < k && more(); i++) {
				const ch = world.charge(t);
				if (ch.status === 'succeeded')
					follow(ch);
			}
			if (!ev.burst)
				tl.add({ t: t + Math.floor(rng.exponential(chargeGap)),
				    kind: 'charge' });
			break;
		}
		case 'refund': {
			const re = world.refund(t, ev.charge);
			if (re !== null && !ev.charge.refunded && rng.chance(0.3))
				tl.add({ t: t + 1 + Math.floor(rng.exponential(2 * DAY)),
				    kind: 'refund', charge: ev.charge });
			break;
		}
		case 'dispute': {
			const dp = world.dispute(t, ev.charge);
			if (dp !== null) {
				tl.add({ t: t + rng.int(2 * DAY, 6 * DAY),
				    kind: 'review', dispute: dp });
				tl.add({ t: t + rng.int(10 * DAY, 40 * DAY),
				    kind: 'outcome', dispute: dp, won: rng.chance(0.45) });
			}
			break;
		}
		case 'review':
			world.disputeReview(t, ev.dispute);
			break;
		case 'outcome':
			world.disputeOutcome(t, ev.dispute, ev.won);
			break;
		case 'fee':
			world.stripeFee(t);
			tl.add({ t: t + 1 + Math.floor(rng.exponential(feeGap)),
			    kind: 'fee' });
			break;
		case 'payout':
			for (const c of world.currencies) {
				if (!more())
					break;
				const po = world.payout(t, c);
				if (po !== null && rng.chance(0.06))
					tl.add({ t: po.arrival_date + rng.int(3600, 2 * DAY),
					    kind: 'failure', payout: po });
			}
			tl.add({ t: t + DAY, kind: 'payout' });
			break;
		case 'failure':
			world.payoutFailure(t, ev.payout);
			break;
		default:
			throw new Error('unknown event ' + ev.kind);
		}
	}
	let last = t0;
	for (const bt of world.lists.balance_transactions)
		last = Math.max(last, bt.created);
	for (const c of world.lists.customers)
		last = Math.max(last, c.created);
	let delta = dayStart(opts.now) - dayStart(last);
	if (last + delta > opts.now)
		delta -= DAY;
	world.shift(delta);
	world.list('balance_transactions');
	return world;
}

/*
 * Adds n balance transactions to world at t (the current second): mostly
 * charges, and refunds and disputes of charges at least a second old,
 * Stripe fees, and payouts of what is available.  Returns the new
 * transactions' count by type.
 */
function activity(world, n, t) {
	const rng = world.rng;
	const target = world.btCount + n;
	const byType = {};
	const recent = () => {
		const list = world.chargeable;
		for (let tries = 0; tries < 20 && list.length > 0; tries++) {
			const ch = list[list.length - 1 - Math.floor(rng.float() *
			    Math.min(list.length, 500))];
			if (ch.created < t)
				return ch;
		}
		return null;
	};
	while (world.btCount < target) {
		const before = world.btCount;
		const op = rng.weighted([['charge', 70], ['refund', 14],
		    ['fee', 4], ['dispute', 4], ['payout', 8]]);
		let bt = null;
		if (op === 'refund') {
			const ch = recent();
			const re = ch && world.refund(t, ch);
			bt = re ? world.get(re.balance_transaction) : null;
		} else if (op === 'dispute') {
			const ch = recent();
			const dp = ch && world.dispute(t, ch);
			bt = dp ? dp.balance_transactions[0] : null;
		} else if (op === 'fee')
			bt = world.stripeFee(t);
		else if (op === 'payout') {
			const c = rng.pick(world.currencies);
			const po = world.payout(t, c);
			bt = po ? world.get(po.balance_transaction) : null;
		}
		if (bt === null && world.btCount === before) {
			const ch = world.charge(t);
			bt = ch.balance_transaction ? world.get(ch.balance_transaction) :
			    null;
		}
		if (bt !== null)
			byType[bt.type] = (byType[bt.type] || 0) + 1;
	}
	world.list('balance_transactions');
	return byType;
}

module.exports = { generate, activity, spanDays, Timeline };
