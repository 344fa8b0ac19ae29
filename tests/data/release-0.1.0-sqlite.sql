-- The schema presence-dash 0.1.0 (commit 100f0b3) made with create_all on sqlite;
-- generated from that commit's Table definitions, kept to test upgrades from it.
CREATE TABLE audit_log (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	actor VARCHAR(128) NOT NULL,
	role VARCHAR(16) NOT NULL,
	action VARCHAR(64) NOT NULL,
	target VARCHAR(256) NOT NULL,
	params TEXT NOT NULL,
	result VARCHAR(32) NOT NULL,
	status INTEGER NOT NULL,
	client_addr VARCHAR(64) NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_audit_log_actor ON audit_log (actor, at);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE kiosk_tokens (
	id INTEGER NOT NULL,
	name VARCHAR(100) NOT NULL,
	token_sha256 VARCHAR(64) NOT NULL,
	created_by VARCHAR(128) NOT NULL,
	created_at DATETIME NOT NULL,
	revoked_by VARCHAR(128),
	revoked_at DATETIME,
	PRIMARY KEY (id),
	UNIQUE (token_sha256)
);
CREATE TABLE provider_notes (
	provider VARCHAR(32) NOT NULL,
	"key" VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (provider, "key")
);
CREATE TABLE screenmeet_requests (
	"key" VARCHAR(128) NOT NULL,
	fingerprint VARCHAR(64) NOT NULL,
	state VARCHAR(8) NOT NULL,
	status_code INTEGER,
	body TEXT,
	claimed_at DATETIME NOT NULL,
	PRIMARY KEY ("key")
);
CREATE TABLE screenmeet_sessions (
	id VARCHAR(64) NOT NULL,
	type VARCHAR(16) NOT NULL,
	label VARCHAR(255) NOT NULL,
	status VARCHAR(32) NOT NULL,
	scheduled BOOLEAN NOT NULL,
	start_time DATETIME,
	pin INTEGER NOT NULL,
	user_url TEXT NOT NULL,
	host_url TEXT NOT NULL,
	host_auth_token TEXT NOT NULL,
	expires_at DATETIME,
	settings TEXT NOT NULL,
	parent_object_table VARCHAR(80) NOT NULL,
	parent_object_sys_id VARCHAR(32) NOT NULL,
	parent_object_display_name VARCHAR(255) NOT NULL,
	person_id VARCHAR(64),
	notes TEXT NOT NULL,
	created_by VARCHAR(128) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	closed_by VARCHAR(128),
	closed_at DATETIME,
	PRIMARY KEY (id)
);
CREATE INDEX ix_screenmeet_sessions_status ON screenmeet_sessions (status, created_at);
CREATE TABLE status_changes (
	id INTEGER NOT NULL,
	person_id VARCHAR(64) NOT NULL,
	old_status VARCHAR(16) NOT NULL,
	new_status VARCHAR(16) NOT NULL,
	changed_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_status_changes_person_time ON status_changes (person_id, changed_at);
