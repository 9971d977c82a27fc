'use strict';
/*
 * One Stripe account in one mode (test or live): its objects, kept as
 * Stripe keeps them, and the operations that make new ones (a charge with
 * its PaymentIntent and balance transaction, a refund, a dispute and its
 * outcome, a Stripe fee, an automatic payout and its failure).  The
 * timeline that calls these operations is lib/generate.js.
 *
 * Money follows Stripe's own rules:
 *  - a balance transaction's fee is the sum of its fee_details and its
 *    net is amount - fee (docs.stripe.com/api/balance_transactions/object);
 *  - amounts are in the balance's currency and valid for its minor unit
 *    (lib/currencies.js); a charge presented in another currency records
 *    the exchange_rate;
 *  - a refund never takes back more than the charge (amount_refunded <=
 *    amount_captured), in the charge's and in the balance's currency;
 *  - an automatic payout pays out the whole available balance of its
 *    currency: exactly the available transactions no earlier payout took,
 *    so it never pays out more than is available.  Those transactions and
 *    the payout's own are what GET /v1/balance_transactions?payout= lists.
 * The balance itself is never stored: lib/api.js sums the nets, so it
 * always equals the sum of the balance transactions.
 */

const cur = require('./currencies');
const { conform } = require('./shapes');

const DAY = 86400;

/* Days before a charge's funds are available, per balance currency (the
 * payout schedule's delay varies by country; these are ours). */
const DELAY_DAYS = { usd: 2, eur: 3, gbp: 3, jpy: 4, kwd: 7 };

/* Currencies charges may be presented in when the account has no balance
 * in them: such charges settle in the default (first) currency. */
const FOREIGN = ['cad', 'chf', 'aud', 'sek', 'isk', 'huf', 'twd', 'krw',
    'bhd', 'mxn', 'sgd', 'usd', 'eur', 'gbp', 'jpy'];

const COMPANIES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark',
    'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka',
    'Oceanic', 'Aperture', 'Massive Dynamic', 'Pied Piper', 'Monarch',
    'Nakatomi', 'Gekko', 'Duff'];
const FIRST = ['Jenny', 'Amal', 'Kenji', 'Olga', 'Tomás', 'Priya', 'Femi',
    'Lena', 'Marco', 'Sofia', 'Yusuf', 'Ines', 'Hiro', 'Chloé', 'Noah',
    'Aiko', 'Omar', 'Zara', 'Luca', 'Maya'];
const LAST = ['Rosen', 'Haddad', 'Sato', 'Ivanova', 'García', 'Patel',
    'Adeyemi', 'Schmidt', 'Rossi', 'Costa', 'Demir', 'Moreau', 'Tanaka',
    'Dubois', 'Smith', 'Kim', 'Nasser', 'Khan', 'Bianchi', 'Levi'];
const BRANDS = [['visa', 'credit'], ['mastercard', 'credit'],
    ['visa', 'debit'], ['amex', 'credit'], ['mastercard', 'debit']];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'JP', 'KW', 'CA', 'NL', 'ES'];
const STRIPE_FEES = ['Radar for Fraud Teams', 'Billing - Usage Fee',
    'Stripe Tax', 'Card Account Updater', 'Identity verification'];
const DISPUTE_REASONS = ['fraudulent', 'product_not_received', 'duplicate',
    'general', 'subscription_canceled', 'product_unacceptable',
    'credit_not_processed'];
const PAYOUT_FAILURES = [
	['account_closed', 'The bank account has been closed.'],
	['no_account', 'The bank account details on file are probably incorrect. No bank account could be located with those details.'],
	['could_not_process', 'The bank could not process this payout.'],
];

/* The resource (list) each object kind belongs to. */
const RESOURCE_OF = {
	balance_transaction: 'balance_transactions', charge: 'charges',
	payment_intent: 'payment_intents', refund: 'refunds',
	dispute: 'disputes', payout: 'payouts', customer: 'customers',
};

/* Returns the midnight (00:00 UTC) that starts t's day. */
function dayStart(t) {
	return Math.floor(t / DAY) * DAY;
}

class World {
	/*
	 * opts: mode ("test"|"live"), rng (lib/rng.js), currencies (balance
	 * currencies, the first is the default settlement currency).
	 */
	constructor(opts) {
		this.mode = opts.mode;
		this.livemode = opts.mode === 'live';
		this.rng = opts.rng;
		this.currencies = opts.currencies.slice();
		const rng = this.rng;
		this.accountTag = rng.base62(10);
		this.accountId = 'acct_1' + rng.base62(5) + this.accountTag;
		this.application = 'ca_' + rng.base62(32);
		this.lists = {};
		for (const r of Object.values(RESOURCE_OF))
			this.lists[r] = [];
		this.byId = new Map();
		this.meta = new Map();
		this.seq = 0;
		this.sorted = true;
		this.btCount = 0;
		this.orderNo = 1000 + rng.int(0, 8999);
		/* Balance transactions no payout has taken yet, per currency. */
		this.unsettled = new Map();
		this.bankAccounts = {};
		for (const c of this.currencies) {
			this.unsettled.set(c, []);
			this.bankAccounts[c] = this.newId('ba_');
		}
		this.customers = [];
		this.usedSlugs = new Map();
		/* Succeeded charges, for refunds and disputes. */
		this.chargeable = [];
	}

	/* Returns a fresh id: prefix + 24 characters with the account's tag
	 * inside, as Stripe's ids look (cus_ ids have 14 characters). */
	newId(prefix) {
		for (;;) {
			const id = prefix === 'cus_' ? prefix + this.rng.base62(14) :
			    prefix + this.rng.base62(6) + this.accountTag +
			    this.rng.base62(8);
			if (!this.byId.has(id) && !Object.values(this.bankAccounts ||
			    {}).includes(id))
				return id;
		}
	}

	/* Stores obj (kind as in RESOURCE_OF) with internal metadata m. */
	store(kind, obj, m) {
		const meta = Object.assign({ kind, seq: this.seq++ }, m || {});
		this.meta.set(obj, meta);
		this.byId.set(obj.id, obj);
		this.lists[RESOURCE_OF[kind]].push(obj);
		this.sorted = false;
		if (kind === 'balance_transaction')
			this.btCount++;
		return obj;
	}

	/* Returns the object with this id, or undefined. */
	get(id) {
		return this.byId.get(id);
	}

	/* Returns the internal metadata of a stored object. */
	metaOf(obj) {
		return this.meta.get(obj);
	}

	/*
	 * Returns the objects of a resource, newest first: created descending,
	 * and among equal created the later-made first (Stripe documents only
	 * "sorted by creation date, most recent first"; ours is deterministic).
	 */
	list(resource) {
		if (!this.sorted) {
			for (const r of Object.keys(this.lists))
				this.lists[r].sort((a, b) => this.compare(a, b));
			this.sorted = true;
		}
		return this.lists[resource];
	}

	/* Orders two objects of one resource as list() does (< 0: a first). */
	compare(a, b) {
		return (b.created - a.created) ||
		    (this.meta.get(b).seq - this.meta.get(a).seq);
	}

	/* Moves every time in the account by delta seconds (whole days). */
	shift(delta) {
		for (const r of Object.keys(this.lists))
			for (const o of this.lists[r]) {
				o.created += delta;
				if (o.available_on !== undefined)
					o.available_on += delta;
				if (o.arrival_date !== undefined)
					o.arrival_date += delta;
				if (o.evidence_details)
					o.evidence_details.due_by += delta;
			}
	}

	/* Returns the balance transaction's time of availability. */
	availableOn(t, currency) {
		return dayStart(t) + (DELAY_DAYS[currency] || 2) * DAY;
	}

	/* Makes a balance transaction (fee = sum of fee_details, net = amount -
	 * fee) and queues it for the next payout unless it is a payout's. */
	newBalanceTransaction(t, f) {
		const fee = f.fee_details.reduce((s, d) => s + d.amount, 0);
		for (const v of [f.amount, fee].concat(f.fee_details.map((d) =>
		    d.amount)))
			if (!cur.isValidAmount(f.currency, v))
				throw new Error('invalid ' + f.currency + ' amount ' + v);
		const bt = conform('balance_transaction', {
			amount: f.amount,
			available_on: f.available_on === undefined ? t : f.available_on,
			created: t,
			currency: f.currency,
			description: f.description === undefined ? null : f.description,
			exchange_rate: f.exchange_rate === undefined ? null :
			    f.exchange_rate,
			fee,
			fee_details: f.fee_details,
			id: this.newId('txn_'),
			net: f.amount - fee,
			object: 'balance_transaction',
			reporting_category: f.reporting_category,
			source: f.source === undefined ? null : f.source,
			status: 'pending',
			type: f.type,
		});
		this.store('balance_transaction', bt, { payout: null });
		if (f.type !== 'payout')
			this.unsettled.get(f.currency).push(bt);
		return bt;
	}

	/* Returns a fee_details entry. */
	feeDetail(amount, currency, description, type, application) {
		return { amount, application: application || null, currency,
		    description, type };
	}

	/* Returns a customer for a new charge: null (a guest), an existing
	 * customer, or a new one created at t. */
	customerFor(t) {
		const rng = this.rng;
		if (rng.chance(0.35))
			return null;
		if (this.customers.length > 0 && rng.chance(0.7))
			return rng.pick(this.customers);
		return this.newCustomer(t);
	}

	/* Makes a customer; some name a Blnk balance in metadata.blnk_balance. */
	newCustomer(t) {
		const rng = this.rng;
		const first = rng.pick(FIRST), last = rng.pick(LAST);
		const company = rng.pick(COMPANIES);
		const base = company.toLowerCase().replace(/[^a-z0-9]+/g, '-');
		const n = (this.usedSlugs.get(base) || 0) + 1;
		this.usedSlugs.set(base, n);
		const slug = n === 1 ? base : base + '-' + n;
		let metadata = {};
		if (rng.chance(0.6))
			metadata = { blnk_balance: '@' + slug + '-wallet' };
		else if (rng.chance(0.3))
			metadata = { crm_id: 'crm_' + rng.int(10000, 99999) };
		const local = (first + '.' + last).toLowerCase()
		    .normalize('NFD').replace(/[^a-z.]/g, '');
		const c = conform('customer', {
			address: null, balance: 0, created: t, currency: null,
			default_source: null, delinquent: false,
			description: rng.chance(0.3) ? company + ' account' : null,
			discount: null,
			email: rng.chance(0.9) ? local + '@' + slug + '.example' : null,
			id: this.newId('cus_'),
			invoice_prefix: rng.hex(8).toUpperCase(),
			invoice_settings: { custom_fields: null,
			    default_payment_method: null, footer: null,
			    rendering_options: null },
			livemode: this.livemode, metadata,
			name: first + ' ' + last,
			next_invoice_sequence: 1, object: 'customer',
			phone: rng.chance(0.3) ? '+1555' + rng.int(1000000, 9999999) :
			    null,
			preferred_locales: [], shipping: null, tax_exempt: 'none',
			test_clock: null,
		});
		this.store('customer', c);
		this.customers.push(c);
		return c;
	}

	/* Returns {presentment, settlement} currencies for a new charge. */
	chargeCurrencies() {
		const rng = this.rng;
		const foreign = FOREIGN.filter((c) => !this.currencies.includes(c));
		const def = this.currencies[0];
		if (foreign.length > 0 && rng.chance(0.15))
			return { presentment: rng.pick(foreign), settlement: def };
		const c = rng.weighted(this.currencies.map((x, i) =>
		    [x, i === 0 ? 3 : 1]));
		return { presentment: c, settlement: c };
	}

	/* Returns units of `to` per unit of `from`, as Stripe reports it (a
	 * float with six significant digits). */
	exchangeRate(from, to) {
		const r = cur.usdPerUnit(from) / cur.usdPerUnit(to) *
		    (1 + (this.rng.float() - 0.5) * 0.02);
		return Number(r.toPrecision(6));
	}

	/* Returns a price in c: between 5 and 2000 US dollars' worth. */
	price(c) {
		const rng = this.rng;
		const usd = rng.weighted([[[5, 30], 40], [[30, 200], 45],
		    [[200, 2000], 15]]);
		const v = usd[0] + rng.float() * (usd[1] - usd[0]);
		return Math.max(cur.step(c), cur.fromUsd(c, v));
	}

	/*
	 * Makes a charge at t with its PaymentIntent and, when it succeeded,
	 * its balance transaction.  About one in twenty fails (status failed,
	 * no balance transaction, PaymentIntent requires_payment_method).
	 * Returns the charge.
	 */
	charge(t, opts) {
		const rng = this.rng;
		const o = opts || {};
		const customer = this.customerFor(t);
		const { presentment, settlement } = this.chargeCurrencies();
		const amount = this.price(presentment);
		const failed = o.failed !== undefined ? o.failed : rng.chance(0.05);
		const chId = this.newId('ch_'), piId = this.newId('pi_');
		const pmId = this.newId('pm_');
		const order = this.orderNo++;
		const description = rng.chance(0.85) ? 'Order #' + order : null;
		const metadata = description ? { order_id: String(order) } : {};
		let bt = null;
		if (!failed)
			bt = this.chargeTransaction(t, chId, amount, presentment,
			    settlement, description);
		const [brand, funding] = rng.pick(BRANDS);
		const email = customer ? customer.email : rng.chance(0.7) ?
		    'guest' + rng.int(100, 99999) + '@shopper.example' : null;
		const name = customer ? customer.name : rng.chance(0.6) ?
		    rng.pick(FIRST) + ' ' + rng.pick(LAST) : null;
		const ch = conform('charge', {
			amount, amount_captured: failed ? 0 : amount,
			amount_refunded: 0, application: null, application_fee: null,
			application_fee_amount: null,
			balance_transaction: bt ? bt.id : null,
			billing_details: {
				address: { city: null, country: null, line1: null,
				    line2: null, postal_code: null, state: null },
				email, name, phone: null,
			},
			calculated_statement_descriptor: 'STRIPE-SYNC SIM',
			captured: !failed, created: t, currency: presentment,
			customer: customer ? customer.id : null, description,
			disputed: false, failure_balance_transaction: null,
			failure_code: failed ? 'card_declined' : null,
			failure_message: failed ? 'Your card was declined.' : null,
			fraud_details: {}, id: chId, invoice: null,
			livemode: this.livemode, metadata, object: 'charge',
			on_behalf_of: null, outcome: null, paid: !failed,
			payment_intent: piId, payment_method: pmId,
			payment_method_details: {
				card: {
					brand,
					checks: { address_line1_check: null,
					    address_postal_code_check: null,
					    cvc_check: 'pass' },
					country: rng.pick(COUNTRIES),
					exp_month: rng.int(1, 12),
					exp_year: 2026 + rng.int(0, 6),
					fingerprint: rng.base62(16),
					funding, installments: null,
					last4: String(rng.int(0, 9999)).padStart(4, '0'),
					mandate: null, network: brand,
					three_d_secure: null, wallet: null,
				},
				type: 'card',
			},
			receipt_email: email, receipt_number: null,
			receipt_url: failed ? null : 'https://pay.stripe.com/receipts/' +
			    'payment/' + rng.base62(64),
			refunded: false, review: null, shipping: null,
			source_transfer: null, statement_descriptor: null,
			statement_descriptor_suffix: null,
			status: failed ? 'failed' : 'succeeded',
			transfer_data: null, transfer_group: null,
		});
		const pi = conform('payment_intent', {
			amount, amount_capturable: 0, amount_details: { tip: {} },
			amount_received: failed ? 0 : amount, application: null,
			application_fee_amount: null, automatic_payment_methods: null,
			canceled_at: null, cancellation_reason: null,
			capture_method: 'automatic',
			client_secret: piId + '_secret_' + rng.base62(25),
			confirmation_method: 'automatic', created: t,
			currency: presentment, customer: ch.customer, description,
			id: piId, invoice: null, last_payment_error: null,
			latest_charge: chId, livemode: this.livemode, metadata,
			next_action: null, object: 'payment_intent', on_behalf_of: null,
			payment_method: failed ? null : pmId,
			payment_method_options: {}, payment_method_types: ['card'],
			processing: null, receipt_email: email, review: null,
			setup_future_usage: null, shipping: null,
			statement_descriptor: null, statement_descriptor_suffix: null,
			status: failed ? 'requires_payment_method' : 'succeeded',
			transfer_data: null, transfer_group: null,
		});
		this.store('payment_intent', pi);
		this.store('charge', ch, { bt, pi, refundedSettled: 0,
		    disputed: false });
		if (!failed)
			this.chargeable.push(ch);
		return ch;
	}

	/* Makes a charge's balance transaction: settled in `settlement`, with
	 * Stripe's fee (and now and then an application fee and tax on it). */
	chargeTransaction(t, chId, amount, presentment, settlement, description) {
		const rng = this.rng;
		const converted = presentment !== settlement;
		const rate = converted ? this.exchangeRate(presentment, settlement) :
		    null;
		const settled = converted ? Math.max(cur.step(settlement) * 100,
		    cur.round(settlement, cur.convert(amount, presentment,
		    settlement, rate))) : amount;
		const s = settlement;
		let stripeFee = cur.round(s, settled * 0.029) + cur.fromUsd(s, 0.3);
		if (converted)
			stripeFee += cur.round(s, settled * 0.01);
		const details = [this.feeDetail(stripeFee, s,
		    'Stripe processing fees', 'stripe_fee')];
		if (rng.chance(0.12)) {
			const a = cur.round(s, settled * rng.int(2, 8) / 100);
			if (a > 0)
				details.push(this.feeDetail(a, s,
				    'Stripe Sync platform fee', 'application_fee',
				    this.application));
		}
		if (rng.chance(0.15)) {
			const a = cur.round(s, stripeFee * 0.2);
			if (a > 0)
				details.push(this.feeDetail(a, s, 'VAT', 'tax'));
		}
		while (details.length > 1 &&
		    details.reduce((x, d) => x + d.amount, 0) >= settled)
			details.pop();
		return this.newBalanceTransaction(t, {
			amount: settled, currency: s, exchange_rate: rate,
			fee_details: details, type: 'charge',
			reporting_category: 'charge', source: chId, description,
			available_on: this.availableOn(t, s),
		});
	}

	/* Returns true when ch can be refunded at t: succeeded, created at
	 * least a second before, not disputed, not fully refunded. */
	refundable(ch, t) {
		const m = this.meta.get(ch);
		return ch.status === 'succeeded' && ch.created < t && !m.disputed &&
		    ch.amount_refunded < ch.amount_captured;
	}

	/*
	 * Refunds ch at t: fully, or partly (part of what is left).  The
	 * refund's balance transaction takes back the same share of the
	 * settled amount, never more than what is left of it; Stripe keeps
	 * its fee.  Returns the refund, or null when ch is not refundable.
	 */
	refund(t, ch, full) {
		if (!this.refundable(ch, t))
			return null;
		const rng = this.rng;
		const m = this.meta.get(ch);
		const c = ch.currency;
		const left = ch.amount_captured - ch.amount_refunded;
		let amount = left;
		const isFull = full !== undefined ? full : rng.chance(0.5);
		if (!isFull && left > cur.step(c)) {
			amount = cur.floor(c, left * (0.1 + rng.float() * 0.8));
			amount = Math.min(Math.max(amount, cur.step(c)), left -
			    cur.step(c));
		}
		const cbt = m.bt;
		const s = cbt.currency;
		const settledLeft = cbt.amount - m.refundedSettled;
		if (settledLeft <= 0)
			return null;
		let back;
		if (amount === left)
			back = settledLeft;
		else
			back = Math.min(settledLeft, Math.max(cur.step(s),
			    cur.floor(s, cbt.amount * amount / ch.amount_captured)));
		const reId = this.newId('re_');
		const bt = this.newBalanceTransaction(t, {
			amount: -back, currency: s, exchange_rate: cbt.exchange_rate,
			fee_details: [], type: 'refund', reporting_category: 'refund',
			source: reId, description: 'REFUND FOR CHARGE (' +
			    (ch.description || 'Payment') + ')',
		});
		m.refundedSettled += back;
		ch.amount_refunded += amount;
		ch.refunded = ch.amount_refunded === ch.amount_captured;
		const re = conform('refund', {
			amount, balance_transaction: bt.id, charge: ch.id, created: t,
			currency: c, id: reId, metadata: {}, object: 'refund',
			payment_intent: ch.payment_intent,
			reason: rng.weighted([['requested_by_customer', 5],
			    ['duplicate', 1], [null, 2]]),
			receipt_number: null, source_transfer_reversal: null,
			status: 'succeeded', transfer_reversal: null,
		});
		this.store('refund', re, { charge: ch });
		return re;
	}

	/* Returns the dispute fee in c: 15.00 USD's worth (15.00 in USD). */
	disputeFee(c) {
		return cur.fromUsd(c, 15);
	}

	/*
	 * Opens a dispute on ch at t: a dispute object and an adjustment
	 * (reporting_category dispute) withdrawing the settled amount plus
	 * the dispute fee.  Returns the dispute, or null when ch cannot be
	 * disputed (refunded at all, already disputed, or not a second old).
	 */
	dispute(t, ch) {
		const m = this.meta.get(ch);
		if (ch.status !== 'succeeded' || m.disputed ||
		    ch.amount_refunded > 0 || ch.created >= t)
			return null;
		const rng = this.rng;
		const cbt = m.bt;
		const s = cbt.currency;
		const fee = this.disputeFee(s);
		const dpId = this.newId('dp_');
		const bt = this.newBalanceTransaction(t, {
			amount: -cbt.amount, currency: s,
			exchange_rate: cbt.exchange_rate,
			fee_details: [this.feeDetail(fee, s, 'Dispute fee',
			    'stripe_fee')],
			type: 'adjustment', reporting_category: 'dispute', source: dpId,
			description: 'Chargeback withdrawal for ' + ch.id,
		});
		m.disputed = true;
		ch.disputed = true;
		const ev = {};
		for (const k of ['access_activity_log', 'billing_address',
		    'cancellation_policy', 'cancellation_policy_disclosure',
		    'cancellation_rebuttal', 'customer_communication',
		    'customer_email_address', 'customer_name',
		    'customer_purchase_ip', 'customer_signature',
		    'duplicate_charge_documentation', 'duplicate_charge_explanation',
		    'duplicate_charge_id', 'product_description', 'receipt',
		    'refund_policy', 'refund_policy_disclosure',
		    'refund_refusal_explanation', 'service_date',
		    'service_documentation', 'shipping_address',
		    'shipping_carrier', 'shipping_date', 'shipping_documentation',
		    'shipping_tracking_number', 'uncategorized_file',
		    'uncategorized_text'])
			ev[k] = null;
		const dp = conform('dispute', {
			amount: ch.amount, balance_transactions: [bt], charge: ch.id,
			created: t, currency: ch.currency, evidence: ev,
			evidence_details: { due_by: dayStart(t) + 8 * DAY - 1,
			    has_evidence: false, past_due: false, submission_count: 0 },
			id: dpId, is_charge_refundable: false, livemode: this.livemode,
			metadata: {}, object: 'dispute',
			payment_intent: ch.payment_intent,
			reason: rng.pick(DISPUTE_REASONS),
			status: rng.chance(0.3) ? 'warning_needs_response' :
			    'needs_response',
		});
		this.store('dispute', dp, { charge: ch });
		return dp;
	}

	/* Evidence was submitted at t: the dispute goes under review. */
	disputeReview(t, dp) {
		if (dp.status !== 'needs_response' &&
		    dp.status !== 'warning_needs_response')
			return;
		dp.status = dp.status === 'warning_needs_response' ?
		    'warning_under_review' : 'under_review';
		dp.evidence_details.has_evidence = true;
		dp.evidence_details.submission_count = 1;
		dp.evidence.uncategorized_text = 'Signed delivery receipt attached.';
	}

	/*
	 * The dispute is decided at t.  Lost: nothing moves.  Won: an
	 * adjustment (reporting_category dispute_reversal) puts the amount
	 * back and returns the fee (a negative fee).  Returns the new balance
	 * transaction or null.
	 */
	disputeOutcome(t, dp, won) {
		if (dp.status === 'won' || dp.status === 'lost' ||
		    dp.status === 'warning_closed')
			return null;
		if (!won) {
			dp.status = dp.status.startsWith('warning_') ? 'warning_closed' :
			    'lost';
			return null;
		}
		const first = dp.balance_transactions[0];
		const s = first.currency;
		const ch = this.get(dp.charge);
		const bt = this.newBalanceTransaction(t, {
			amount: -first.amount, currency: s,
			exchange_rate: first.exchange_rate,
			fee_details: [this.feeDetail(-first.fee, s, 'Dispute fee refund',
			    'stripe_fee')],
			type: 'adjustment', reporting_category: 'dispute_reversal',
			source: dp.id, description: 'Chargeback reversal for ' + ch.id,
		});
		dp.balance_transactions.push(bt);
		dp.status = 'won';
		return bt;
	}

	/* Makes a Stripe fee at t (type stripe_fee, reporting_category fee). */
	stripeFee(t, currency) {
		const rng = this.rng;
		const c = currency || rng.weighted(this.currencies.map((x, i) =>
		    [x, i === 0 ? 3 : 1]));
		const amount = Math.max(cur.step(c), cur.fromUsd(c,
		    rng.pick([0.5, 2, 5, 10, 25]) * (1 + rng.float())));
		return this.newBalanceTransaction(t, {
			amount: -amount, currency: c, fee_details: [],
			type: 'stripe_fee', reporting_category: 'fee', source: null,
			description: rng.pick(STRIPE_FEES),
		});
	}

	/* Returns the available balance of c at t that no payout has taken:
	 * {total, items}. */
	payable(t, c) {
		const items = this.unsettled.get(c).filter((bt) =>
		    bt.available_on <= t);
		return { total: items.reduce((s, bt) => s + bt.net, 0), items };
	}

	/*
	 * Makes the automatic payout of currency c at t: the whole available
	 * balance, when it is positive.  Returns the payout or null.
	 */
	payout(t, c) {
		const { total, items } = this.payable(t, c);
		if (total <= 0)
			return null;
		const poId = this.newId('po_');
		const bt = this.newBalanceTransaction(t, {
			amount: -total, currency: c, fee_details: [], type: 'payout',
			reporting_category: 'payout', source: poId,
			description: 'STRIPE PAYOUT',
		});
		const taken = new Set(items);
		this.unsettled.set(c, this.unsettled.get(c).filter((x) =>
		    !taken.has(x)));
		for (const x of items)
			this.meta.get(x).payout = poId;
		this.meta.get(bt).payout = poId;
		const po = conform('payout', {
			amount: total,
			arrival_date: dayStart(t) + (this.rng.chance(0.5) ? 1 : 2) * DAY,
			automatic: true, balance_transaction: bt.id, created: t,
			currency: c, description: 'STRIPE PAYOUT',
			destination: this.bankAccounts[c],
			failure_balance_transaction: null, failure_code: null,
			failure_message: null, id: poId, livemode: this.livemode,
			metadata: {}, method: 'standard', object: 'payout',
			original_payout: null, reconciliation_status: 'completed',
			reversed_by: null, source_type: 'card',
			statement_descriptor: null, status: 'in_transit',
			type: 'bank_account',
		});
		this.store('payout', po, { items: items.concat([bt]), failed: false });
		return po;
	}

	/* The bank returned payout po at t: a payout_failure transaction puts
	 * the amount back in the balance (a later payout takes it). */
	payoutFailure(t, po) {
		const m = this.meta.get(po);
		if (m.failed)
			return null;
		const [code, message] = this.rng.pick(PAYOUT_FAILURES);
		const bt = this.newBalanceTransaction(t, {
			amount: po.amount, currency: po.currency, fee_details: [],
			type: 'payout_failure', reporting_category: 'payout_reversal',
			source: po.id, description: 'STRIPE PAYOUT FAILURE',
		});
		m.failed = true;
		po.status = 'failed';
		po.failure_balance_transaction = bt.id;
		po.failure_code = code;
		po.failure_message = message;
		return bt;
	}

	/* Returns the balance transactions payout po settled, and its own. */
	payoutItems(po) {
		return this.meta.get(po).items;
	}

	/* Returns a balance transaction as served at clock: status pending
	 * until available_on, then available. */
	viewBalanceTransaction(bt, clock) {
		const v = Object.assign({}, bt);
		v.status = bt.available_on <= clock ? 'available' : 'pending';
		return v;
	}

	/* Returns a payout as served at clock (failed, paid once it arrived,
	 * else in_transit). */
	viewPayout(po, clock) {
		const v = Object.assign({}, po);
		if (po.status !== 'failed')
			v.status = po.arrival_date <= clock ? 'paid' : 'in_transit';
		return v;
	}

	/* Returns a stored object as served at clock (a shallow copy where
	 * something depends on the time). */
	view(obj, clock) {
		switch (obj.object) {
		case 'balance_transaction':
			return this.viewBalanceTransaction(obj, clock);
		case 'payout':
			return this.viewPayout(obj, clock);
		case 'dispute': {
			const v = Object.assign({}, obj);
			v.balance_transactions = obj.balance_transactions.map((bt) =>
			    this.viewBalanceTransaction(bt, clock));
			return v;
		}
		default:
			return obj;
		}
	}

	/*
	 * Returns per currency {available, pending, net} at clock: available
	 * is the net of the transactions available by then, pending the rest,
	 * net the sum of every net.  Currencies are the account's, then any
	 * other that has a transaction.
	 */
	balances(clock) {
		const out = new Map();
		for (const c of this.currencies)
			out.set(c, { available: 0, pending: 0, net: 0 });
		for (const bt of this.lists.balance_transactions) {
			let b = out.get(bt.currency);
			if (b === undefined) {
				b = { available: 0, pending: 0, net: 0 };
				out.set(bt.currency, b);
			}
			b.net += bt.net;
			if (bt.available_on <= clock)
				b.available += bt.net;
			else
				b.pending += bt.net;
		}
		return out;
	}
}

module.exports = { World, RESOURCE_OF, DAY, dayStart, DELAY_DAYS };
