-- 003-reconcile.sql: reconciliations (jobs of the same queue as syncs),
-- Stripe webhooks (a sealed signing secret per install, the events seen,
-- debounced job requests) and alerts (what was flagged in Cloud, once).

-- A job of the queue is a sync or a reconciliation.  Both share the claim,
-- the lease and the one-active-job-per-install index of sync_runs, so a
-- reconciliation never reads Blnk while a sync of the same install is
-- posting to it.  The runs list (GET /api/v1/syncs) shows syncs only.
ALTER TABLE sync_runs ADD COLUMN job TEXT NOT NULL DEFAULT 'sync'
    CHECK (job IN ('sync', 'reconcile'));

-- What a reconciliation compares and what it found.  scope 'period':
-- Stripe's balance transactions created in [period_from, period_to)
-- (unix seconds, whole UTC days), in one currency or all; scope
-- 'payout': what the automatic payout settled.  The phases (sync_runs)
-- are rc_stripe (list Stripe, cursor), rc_blnk (list Blnk, page in
-- blnk_page), rc_compare and rc_balances.
CREATE TABLE reconciliations (
	run_id			TEXT NOT NULL PRIMARY KEY
	    REFERENCES sync_runs (run_id),
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	scope			TEXT NOT NULL CHECK (scope IN ('period', 'payout')),
	period_from		INTEGER,
	period_to		INTEGER,
	currency		TEXT,	-- lower case, NULL: all
	payout			TEXT,	-- po_..., scope 'payout'
	blnk_page		INTEGER NOT NULL DEFAULT 0,
	lookup_done		INTEGER NOT NULL DEFAULT 0,
	stripe_count		INTEGER NOT NULL DEFAULT 0,
	blnk_count		INTEGER NOT NULL DEFAULT 0,
	matched			INTEGER NOT NULL DEFAULT 0,
	differences		INTEGER NOT NULL DEFAULT 0,
	-- 'clean' or 'differences' once compared.
	result			TEXT CHECK (result IN ('clean', 'differences')),
	-- Totals per currency and per day, the balance comparison (JSON).
	summary			TEXT CHECK (summary IS NULL OR json_valid(summary))
) STRICT;

CREATE INDEX reconciliations_install ON reconciliations (installed_app_id);

-- Stripe's side: each balance transaction of the scope, reduced to what
-- is compared.
CREATE TABLE recon_stripe (
	run_id			TEXT NOT NULL REFERENCES sync_runs (run_id),
	txn_id			TEXT NOT NULL,
	created			INTEGER NOT NULL,
	type			TEXT NOT NULL,
	kind			TEXT NOT NULL,	-- as sync_items.kind
	currency		TEXT NOT NULL,
	amount			INTEGER NOT NULL,
	fee			INTEGER NOT NULL,
	net			INTEGER NOT NULL,
	PRIMARY KEY (run_id, txn_id)
) STRICT;

-- Blnk's side: every transaction under the app's references ("stripe."
-- ...) in the scope, as the Data API showed it (a <ref>_q row is the
-- outcome of the queued <ref>).
CREATE TABLE recon_blnk (
	run_id			TEXT NOT NULL REFERENCES sync_runs (run_id),
	transaction_id		TEXT NOT NULL,
	reference		TEXT NOT NULL,
	status			TEXT NOT NULL,
	currency		TEXT NOT NULL,
	precise_amount		INTEGER NOT NULL,
	precision		INTEGER NOT NULL,
	source			TEXT NOT NULL,
	destination		TEXT NOT NULL,
	effective		INTEGER NOT NULL,	-- unix seconds
	mode			TEXT NOT NULL,	-- meta_data.stripe_mode, or 
	PRIMARY KEY (run_id, transaction_id)
) STRICT;

CREATE INDEX recon_blnk_ref ON recon_blnk (run_id, reference);

-- Each difference found, item by item.  kind: missing (Stripe has it,
-- Blnk does not), rejected (Blnk REJECTED it), queued (Blnk has not
-- applied it yet), amount (amount differs), currency (currency
-- differs), unknown (Blnk has it under the app's references, Stripe does
-- not), balance (the balances differ).  Amounts are decimal text in the
-- currency's unit; what to do is in action.
CREATE TABLE recon_diffs (
	run_id			TEXT NOT NULL REFERENCES sync_runs (run_id),
	seq			INTEGER NOT NULL,
	kind			TEXT NOT NULL CHECK (kind IN ('missing',
	    'rejected', 'queued', 'amount', 'currency', 'unknown',
	    'balance')),
	currency		TEXT,
	day			TEXT,	-- YYYY-MM-DD (UTC), NULL for balances
	stripe_id		TEXT,
	reference		TEXT,
	blnk_id			TEXT,
	stripe_amount		TEXT,
	blnk_amount		TEXT,
	message			TEXT NOT NULL,
	action			TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT;

-- The Stripe webhook signing secret of an install (whsec_...), sealed
-- like the keys: AES-256-GCM under key_kid, associated data
-- "stripe-sync:v1:webhook_secrets.secret:<installed_app_id>".
CREATE TABLE webhook_secrets (
	installed_app_id	TEXT NOT NULL PRIMARY KEY
	    REFERENCES installs (installed_app_id),
	secret_sealed		BLOB NOT NULL,
	key_kid			TEXT NOT NULL,
	last4			TEXT NOT NULL CHECK (length(last4) = 4),
	set_at			TEXT NOT NULL
) STRICT;

-- Every verified event, once (Stripe delivers at least once): a
-- redelivery of an id already here is acknowledged and changes nothing.
-- action: what it asked for ('sync', 'reconcile' or 'none').
CREATE TABLE webhook_events (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	event_id		TEXT NOT NULL,
	type			TEXT NOT NULL,
	livemode		INTEGER NOT NULL,
	action			TEXT NOT NULL
	    CHECK (action IN ('sync', 'reconcile', 'none')),
	received_at		TEXT NOT NULL,
	PRIMARY KEY (installed_app_id, event_id)
) STRICT;

-- A job asked for by events, waiting for the quiet (debounce): each
-- event moves due_at on, but never past first_at + the longest wait;
-- the job runner turns a due request into a queued run once the install
-- has no active one.  payout is '' for a sync.
CREATE TABLE job_requests (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	job			TEXT NOT NULL CHECK (job IN ('sync', 'reconcile')),
	payout			TEXT NOT NULL,
	first_at		INTEGER NOT NULL,
	due_at			INTEGER NOT NULL,
	events			INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (installed_app_id, job, payout)
) STRICT;

CREATE INDEX job_requests_due ON job_requests (due_at);

-- Problems worth a Cloud alert, one row per problem (problem_key:
-- "run_failed:<first failed run of the streak>[:<currency>]",
-- "rejected:<reference>", "recon:<kind>:<id>"), so the same problem is
-- never flagged twice.  target_type 'balance' or 'transaction'; target
-- is what names it before it is resolved to an id (a reference, or an
-- indicator with its currency).  state: pending
-- (to flag), flagged (anomaly_id set), unscoped (the install lacks
-- alerts:write: the portal shows it), untargeted (Blnk has nothing to
-- flag it on: the portal shows it), cleared (it went away before it was
-- flagged).
CREATE TABLE alert_flags (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	problem_key		TEXT NOT NULL,
	source_id		TEXT,	-- the run or reconciliation
	target_type		TEXT NOT NULL
	    CHECK (target_type IN ('balance', 'transaction')),
	target			TEXT NOT NULL,
	currency		TEXT,
	target_id		TEXT,	-- bln_/txn_ once resolved
	title			TEXT NOT NULL,
	description		TEXT NOT NULL,
	state			TEXT NOT NULL CHECK (state IN ('pending',
	    'flagged', 'unscoped', 'untargeted', 'cleared')),
	anomaly_id		TEXT,
	attempts		INTEGER NOT NULL DEFAULT 0,
	last_error		TEXT,
	-- When a pending row may be tried next (unix seconds): a sender
	-- taking it moves this past the longest its calls can take (so no
	-- other sender flags it meanwhile), a failed try to its backoff.
	next_at			INTEGER NOT NULL DEFAULT 0,
	created_at		TEXT NOT NULL,
	updated_at		TEXT NOT NULL,
	PRIMARY KEY (installed_app_id, problem_key)
) STRICT;

CREATE INDEX alert_flags_state ON alert_flags (state, next_at);
