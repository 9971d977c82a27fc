-- 001-installs.sql: the installs of the app, the install and uninstall
-- events already delivered, and the record of applied migrations.
--
-- db_migrate() runs this file inside one BEGIN IMMEDIATE transaction, then
-- records it in schema_migrations and sets PRAGMA user_version = 1 in the
-- same transaction.  Never edit a released migration: add sql/002-*.sql.
--
-- Every table is STRICT (SQLite 3.37 or later; Debian 12 ships 3.40.1), so
-- a value of the wrong type is an error instead of being stored as is.
-- Timestamps are RFC 3339 UTC text ("2026-11-27T01:02:03Z"), which sorts
-- in time order.

-- One row per installed_app_id Blnk Cloud has ever installed.  The row
-- survives an uninstall (status 'inactive') so a later reinstall can bump
-- the generation, which invalidates every launch token minted before it.
CREATE TABLE installs (
	installed_app_id	TEXT NOT NULL PRIMARY KEY,
	app_id			TEXT NOT NULL,
	instance_id		TEXT NOT NULL,
	organization_id		TEXT,		-- NULL: not sent by Cloud
	-- The first characters of the Cloud api_key, for operators to
	-- recognise a key; the key itself is only ever stored sealed.
	api_key_prefix		TEXT NOT NULL,
	-- nonce || AES-256-GCM ciphertext || tag of the api_key, sealed
	-- with associated data "stripe-sync:v1:installs.api_key:<id>"
	-- under the master key whose id is api_key_kid.  Both are NULL once
	-- the app is uninstalled: the secret is destroyed, not kept.
	api_key_sealed		BLOB,
	api_key_kid		TEXT,
	-- The permissions Cloud granted, as a JSON array of strings.
	granted_permissions	TEXT NOT NULL
	    CHECK (json_valid(granted_permissions) AND
		json_type(granted_permissions) = 'array'),
	status			TEXT NOT NULL
	    CHECK (status IN ('active', 'inactive')),
	-- 1 on the first install, +1 on every reinstall.
	generation		INTEGER NOT NULL CHECK (generation >= 1),
	-- The idempotency key of the install event that set this row.
	install_event		TEXT NOT NULL,
	installed_at		TEXT NOT NULL,
	uninstalled_at		TEXT,		-- NULL while active
	updated_at		TEXT NOT NULL,
	-- A sealed value without its key id could never be opened, and a
	-- key id without a value means nothing: both or neither.
	CHECK ((api_key_sealed IS NULL) = (api_key_kid IS NULL))
) STRICT;

-- db_install_list() walks installs in this order.
CREATE INDEX installs_installed_at ON installs (installed_at, installed_app_id);

-- Every install or uninstall event ever accepted, keyed by its idempotency
-- key: a second delivery of the same key finds the row and does nothing.
-- installed_app_id is deliberately not a foreign key: an uninstall of an
-- unknown install is still recorded, so that its redelivery is a no-op.
CREATE TABLE events (
	idempotency_key		TEXT NOT NULL PRIMARY KEY,
	kind			TEXT NOT NULL
	    CHECK (kind IN ('install', 'uninstall')),
	installed_app_id	TEXT NOT NULL,
	-- What the event did: "installed", "uninstalled", "unknown-install"...
	outcome			TEXT NOT NULL,
	received_at		TEXT NOT NULL
) STRICT;

CREATE INDEX events_installed_app_id ON events (installed_app_id);

-- A human-readable history of the migrations applied to this file.  The
-- authoritative schema version is PRAGMA user_version, not this table.
CREATE TABLE schema_migrations (
	version			INTEGER NOT NULL PRIMARY KEY,
	name			TEXT NOT NULL,	-- e.g. "001-installs"
	applied_at		TEXT NOT NULL
) STRICT;
