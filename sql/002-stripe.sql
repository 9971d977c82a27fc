-- 002-stripe.sql: the Stripe side of an install (its connection and
-- settings), the sync runs the job runner claims, and the record of every
-- Stripe balance transaction seen and every Blnk posting made for it.
--
-- Money is integers only: Stripe's amounts in Stripe's minor unit as
-- Stripe sent them; Blnk's precise_amount and precision inside the
-- posting bodies.  Times that order work (created, leases) are unix
-- seconds; times shown to people are RFC 3339 UTC text.

-- One Stripe key per install, sealed like the Cloud key: AES-256-GCM
-- under the master key key_kid, associated data
-- "stripe-sync:v1:stripe_connections.key:<installed_app_id>".  Only the
-- mode, the key's kind and its last four characters are kept in the
-- clear.  Disconnecting deletes the row; uninstalling deletes it too.
CREATE TABLE stripe_connections (
	installed_app_id	TEXT NOT NULL PRIMARY KEY
	    REFERENCES installs (installed_app_id),
	mode			TEXT NOT NULL CHECK (mode IN ('test', 'live')),
	key_type		TEXT NOT NULL
	    CHECK (key_type IN ('secret', 'restricted')),
	last4			TEXT NOT NULL CHECK (length(last4) = 4),
	key_sealed		BLOB NOT NULL,
	key_kid			TEXT NOT NULL,
	connected_at		TEXT NOT NULL,
	updated_at		TEXT NOT NULL
) STRICT;

-- The install's sync settings as one validated JSON object (settings.c
-- owns its shape and defaults; a missing row means the defaults).
CREATE TABLE sync_settings (
	installed_app_id	TEXT NOT NULL PRIMARY KEY
	    REFERENCES installs (installed_app_id),
	settings		TEXT NOT NULL
	    CHECK (json_valid(settings) AND json_type(settings) = 'object'),
	updated_at		TEXT NOT NULL
) STRICT;

-- A sync run.  The portal queues it ('queued'); a job runner claims it
-- with a lease (lease_owner, lease_until) and runs it through its phases,
-- storing where it is (phase, cursor) after every page and batch, so
-- that another runner can take over once the lease has expired.
CREATE TABLE sync_runs (
	run_id			TEXT NOT NULL PRIMARY KEY,
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	kind			TEXT NOT NULL
	    CHECK (kind IN ('all', 'payins', 'payouts')),
	trigger			TEXT NOT NULL
	    CHECK (trigger IN ('portal', 'schedule', 'webhook', 'cli')),
	mode			TEXT CHECK (mode IN ('test', 'live')),
	status			TEXT NOT NULL
	    CHECK (status IN ('queued', 'running', 'completed', 'failed')),
	phase			TEXT NOT NULL,
	-- The id to page on from (starting_after) while fetching.
	cursor			TEXT,
	-- The created[gte] bound of this run's listing, and the newest
	-- created second it has seen (the next run's bound).
	window_gte		INTEGER,
	high_water		INTEGER,
	-- Stripe's balance before the listing, for the opening balance
	-- (JSON {"usd": 123, ...}), when this run posts one.
	balance_before		TEXT,
	lease_owner		TEXT,
	lease_until		INTEGER,
	attempts		INTEGER NOT NULL DEFAULT 0,
	found			INTEGER NOT NULL DEFAULT 0,
	imported		INTEGER NOT NULL DEFAULT 0,
	present			INTEGER NOT NULL DEFAULT 0,
	rejected		INTEGER NOT NULL DEFAULT 0,
	failed			INTEGER NOT NULL DEFAULT 0,
	-- Postings to confirm in this run, and confirmed so far (progress).
	to_confirm		INTEGER NOT NULL DEFAULT 0,
	confirmed		INTEGER NOT NULL DEFAULT 0,
	-- Per currency: Stripe's balance and Blnk's, after the run (JSON).
	balances		TEXT,
	error_code		TEXT,
	error_message		TEXT,
	created_at		TEXT NOT NULL,
	started_at		TEXT,
	finished_at		TEXT,
	updated_at		TEXT NOT NULL
) STRICT;

-- At most one run per install is queued or running.
CREATE UNIQUE INDEX sync_runs_active ON sync_runs (installed_app_id)
    WHERE status IN ('queued', 'running');
CREATE INDEX sync_runs_history ON sync_runs (installed_app_id, created_at);
CREATE INDEX sync_runs_claim ON sync_runs (status, lease_until);

-- Per install and Stripe mode: the created second up to which every
-- balance transaction has been listed.  The next listing starts at that
-- very second (created[gte]), so one created in it later is not missed;
-- what it finds again is already in sync_items.
CREATE TABLE sync_cursors (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	mode			TEXT NOT NULL CHECK (mode IN ('test', 'live')),
	high_water		INTEGER NOT NULL,
	-- The start date the first listing used (unix seconds, 0: all).
	start_at		INTEGER NOT NULL,
	updated_at		TEXT NOT NULL,
	PRIMARY KEY (installed_app_id, mode)
) STRICT;

-- Every Stripe balance transaction seen, once per install.  ctx is what
-- the postings are built from (the expanded source, reduced), so that a
-- resumed run builds the same postings.  state: 'new' (not yet posted),
-- 'sent' (postings made, not all confirmed), 'confirmed' (every posting
-- APPLIED), 'rejected' (Blnk REJECTED one), 'failed' (cannot be
-- imported: reason says why), 'skipped' (a kind the settings leave out).
CREATE TABLE sync_items (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	txn_id			TEXT NOT NULL,
	mode			TEXT NOT NULL CHECK (mode IN ('test', 'live')),
	created			INTEGER NOT NULL,
	type			TEXT NOT NULL,
	kind			TEXT NOT NULL CHECK (kind IN
	    ('payins', 'fees', 'payouts', 'other', 'opening')),
	currency		TEXT NOT NULL,
	amount			INTEGER NOT NULL,
	fee			INTEGER NOT NULL,
	net			INTEGER NOT NULL,
	source			TEXT,
	ctx			TEXT NOT NULL CHECK (json_valid(ctx)),
	state			TEXT NOT NULL CHECK (state IN
	    ('new', 'sent', 'confirmed', 'rejected', 'failed', 'skipped')),
	run_id			TEXT,
	reason			TEXT,
	PRIMARY KEY (installed_app_id, txn_id)
) STRICT;

CREATE INDEX sync_items_state ON sync_items
    (installed_app_id, state, created, txn_id);

-- The Blnk posting of each leg ("gross", "fee", "opening") of an item, with
-- the deterministic reference that makes it exactly-once in Blnk: the
-- body is stored before it is sent, so a resumed run re-checks and, if
-- Blnk never got it, re-sends the very same posting.  state: 'sent'
-- (posted or about to be, outcome unknown), 'applied', 'rejected'.
-- batch names the bulk post it went in (also in its meta_data), so that
-- a whole batch is read back with one filter, page by page.
CREATE TABLE sync_postings (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	reference		TEXT NOT NULL,
	txn_id			TEXT NOT NULL,
	leg			TEXT NOT NULL
	    CHECK (leg IN ('gross', 'fee', 'opening')),
	body			TEXT NOT NULL CHECK (json_valid(body)),
	state			TEXT NOT NULL
	    CHECK (state IN ('sent', 'applied', 'rejected')),
	batch			TEXT NOT NULL,
	sends			INTEGER NOT NULL DEFAULT 0,
	sent_at			INTEGER NOT NULL,
	blnk_id			TEXT,	-- the <reference>_q row's id
	PRIMARY KEY (installed_app_id, reference)
) STRICT;

CREATE INDEX sync_postings_state ON sync_postings
    (installed_app_id, state, batch);
CREATE INDEX sync_postings_txn ON sync_postings
    (installed_app_id, txn_id, state);
CREATE INDEX sync_postings_batch ON sync_postings (installed_app_id, batch);

-- Where the pay-ins of a charge went, so that its refunds and disputes
-- come back out of the same Blnk balance even if the mapping changes.
CREATE TABLE stripe_charges (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	charge_id		TEXT NOT NULL,
	party			TEXT NOT NULL,
	customer		TEXT,
	PRIMARY KEY (installed_app_id, charge_id)
) STRICT;

-- The Blnk balance a Stripe customer's pay-ins go to, when the mapping
-- reads it from the customer's metadata (listed once per run, not
-- fetched once per charge).
CREATE TABLE stripe_customers (
	installed_app_id	TEXT NOT NULL
	    REFERENCES installs (installed_app_id),
	mode			TEXT NOT NULL CHECK (mode IN ('test', 'live')),
	customer_id		TEXT NOT NULL,
	created			INTEGER NOT NULL,
	party			TEXT,	-- NULL: the metadata names none
	PRIMARY KEY (installed_app_id, customer_id)
) STRICT;

-- What went wrong with an item in a run, in plain words, for the run's
-- detail page.
CREATE TABLE sync_problems (
	run_id			TEXT NOT NULL REFERENCES sync_runs (run_id),
	seq			INTEGER NOT NULL,
	stripe_id		TEXT,
	reference		TEXT,
	code			TEXT NOT NULL,
	message			TEXT NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT;
