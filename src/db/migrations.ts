/**
 * Schema migrations, shared by SQLite and PostgreSQL. Append new ones; never edit a released one.
 *
 * A released migration must do on every future upgrade exactly what it did when it was released,
 * so this module imports nothing of callvault's live code (test/config/import-cycles.test.ts):
 * what a migration needs from it is copied below, frozen, and never follows the live version.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { PostgresAdapter, sql } from './kysely.js';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('controllers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('recordings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('controller_id', 'text', (c) => c.notNull().references('controllers.id'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('writer', 'text')
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('wrapped_key', 'text', (c) => c.notNull())
        .addColumn('ciphertext_size', 'bigint', (c) => c.notNull())
        .addColumn('ciphertext_sha256', 'text', (c) => c.notNull())
        .addColumn('content_sha256', 'text', (c) => c.notNull())
        .addColumn('plaintext_size', 'bigint', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('codec', 'text', (c) => c.notNull())
        .addColumn('sample_rate', 'integer', (c) => c.notNull())
        .addColumn('channels', 'integer', (c) => c.notNull())
        .addColumn('duration_ms', 'bigint', (c) => c.notNull())
        .addColumn('agent', 'text')
        .addColumn('region', 'text')
        .addColumn('direction', 'text')
        .addColumn('started_at', 'text')
        .addColumn('sealed_metadata', 'text', (c) => c.notNull())
        .addColumn('indexed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('imported_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('recordings_content').on('recordings').columns(['controller_id', 'content_sha256']).unique().execute();
      await db.schema.createIndex('recordings_size').on('recordings').columns(['controller_id', 'plaintext_size']).execute();
      await db.schema.createIndex('recordings_started').on('recordings').columns(['controller_id', 'started_at']).execute();
      await db.schema.createIndex('recordings_key').on('recordings').column('key_id').execute();
      await db.schema.createIndex('recordings_state').on('recordings').columns(['state', 'indexed']).execute();

      await db.schema
        .createTable('recording_identifiers')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('recording_identifiers_pk', ['kind', 'digest', 'recording_id'])
        .execute();
      await db.schema.createIndex('recording_identifiers_recording').on('recording_identifiers').column('recording_id').execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('controller_id', 'text', (c) => c.references('controllers.id'))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret_sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },

  // identities, tenancy, sessions, tokens, purpose-bound access and the audit log (issue 3)
  '0002_access': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('processors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('contracts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('processor_id', 'text', (c) => c.notNull().references('processors.id'))
        .addColumn('controller_id', 'text', (c) => c.notNull().references('controllers.id'))
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('regions', 'text')
        .addColumn('valid_from', 'text', (c) => c.notNull())
        .addColumn('valid_to', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('contracts_processor').on('contracts').column('processor_id').execute();

      await db.schema
        .alterTable('users')
        .addColumn('processor_id', 'text', (c) => c.references('processors.id'))
        .execute();
      await db.schema.alterTable('users').addColumn('agent', 'text').execute();
      await db.schema.alterTable('users').addColumn('team', 'text').execute();
      await db.schema
        .alterTable('users')
        .addColumn('totp_enrolled', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('totp_last_step', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('password_one_time', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('failed_signins', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('users').addColumn('locked_until', 'text').execute();
      await db.schema
        .alterTable('users')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('users').addColumn('oidc_issuer', 'text').execute();
      await db.schema.alterTable('users').addColumn('oidc_subject', 'text').execute();
      await db.schema.createIndex('users_agent').on('users').column('agent').execute();
      await db.schema.createIndex('users_team').on('users').column('team').execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('controller_id', 'text', (c) => c.notNull().references('controllers.id'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();

      await db.schema
        .createTable('access_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('purpose_text', 'text')
        .addColumn('break_glass_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('break_glass')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('controller_id', 'text', (c) => c.notNull().references('controllers.id'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('reviewed_at', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('review_note', 'text')
        .execute();
      await db.schema.createIndex('break_glass_user').on('break_glass').columns(['user_id', 'expires_at']).execute();

      await db.schema.alterTable('recordings').addColumn('sealed_transcript', 'text').execute();
      await db.schema.createIndex('recordings_agent').on('recordings').columns(['controller_id', 'agent']).execute();

      // one row holding the log's size: updating it in the appending transaction serialises
      // appenders on both SQLite and PostgreSQL, so sequence numbers have no gaps or forks
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('audit_head').values({ id: 1, size: 0 }).execute();
      await db.schema
        .createTable('audit_entries')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003_audit_tree': {
    async up(db: Kysely<any>) {
      // which recording an entry concerns and which identifier it searched for (keyed hash),
      // copied out of the entry so a patient's access log is two index lookups; `audit verify`
      // checks the copies against the signed entries
      await db.schema.alterTable('audit_entries').addColumn('recording_id', 'text').execute();
      await db.schema.alterTable('audit_entries').addColumn('identifier_hash', 'text').execute();
      await db.schema.createIndex('audit_entries_recording').on('audit_entries').columns(['recording_id', 'seq']).execute();
      await db.schema.createIndex('audit_entries_identifier').on('audit_entries').columns(['identifier_hash', 'seq']).execute();
      const rows = await db.selectFrom('audit_entries').select(['seq', 'entry']).execute();
      for (const row of rows) {
        const columns = indexedColumns(row.entry);
        if (columns.recording_id || columns.identifier_hash) await db.updateTable('audit_entries').set(columns).where('seq', '=', row.seq).execute();
      }

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('size', 'bigint', (c) => c.primaryKey())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // hashes of complete runs of 256 leaves: proofs and roots read these instead of every leaf.
      // A cache, never trusted: proofs are checked against signed checkpoints, and verify
      // recomputes every hash from the entries.
      await db.schema
        .createTable('audit_subtrees')
        .addColumn('start', 'bigint', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0004_redaction': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('recordings')
        .addColumn('redaction', 'text', (c) => c.notNull().defaultTo('pending'))
        .execute();
      await db.schema.alterTable('recordings').addColumn('redaction_problem', 'text').execute();
      await db.schema.alterTable('recordings').addColumn('sealed_redacted_transcript', 'text').execute();
      await db.schema.alterTable('recordings').addColumn('sealed_detections', 'text').execute();
      await db.schema.createIndex('recordings_redaction').on('recordings').columns(['redaction', 'id']).execute();
      await db.schema
        .createTable('recording_renditions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('ciphertext_size', 'bigint', (c) => c.notNull())
        .addColumn('ciphertext_sha256', 'text', (c) => c.notNull())
        .addColumn('plaintext_size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('recording_renditions_kind', ['recording_id', 'kind'])
        .execute();
      // grants stated before this migration were for the original, the only audio there was
      await db.schema
        .alterTable('access_grants')
        .addColumn('rendition', 'text', (c) => c.notNull().defaultTo('original'))
        .execute();
    },
  },
  '0005_shared_state': {
    async up(db: Kysely<any>) {
      // what several servers on one database must agree on: sign-in attempts per client and
      // window (brute force is counted across servers), and who runs each background job
      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('window', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limits_pk', ['key', 'window'])
        .execute();
      // lists and searches order by the call's time (its start, else its import): at the 2019
      // archive's 2.7 million rows a page must come from an index, not a sort of every row
      await sql`CREATE INDEX recordings_call_time ON recordings (controller_id, (coalesce(started_at, imported_at)), id)`.execute(db);
      await sql`CREATE INDEX recordings_region_time ON recordings (controller_id, region, (coalesce(started_at, imported_at)), id)`.execute(db);
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006_erasure': {
    async up(db: Kysely<any>) {
      // a data subject's erasure (src/subject/erase.ts) leaves the row as a tombstone in state
      // `erased`. `wrapped_key` and `sealed_metadata` stay NOT NULL (SQLite cannot drop a
      // constraint without rebuilding the table) and hold '' once the key is destroyed.
      await db.schema.alterTable('recordings').addColumn('erased_at', 'text').execute();
      // blob keys still to delete after the erasing transaction committed (a failed delete is
      // retried by the next erasure; `callvault verify` reports what is left)
      await db.schema.alterTable('recordings').addColumn('erasure_debris', 'text').execute();
    },
  },
  '0007_audit_search': {
    async up(db: Kysely<any>) {
      // The auditor's search (GET /api/v1/audit/search): the entry's time, action, outcome and
      // actor copied out of it, as 0003 did for the patient's access log; `audit verify` checks
      // them against the entry. On PostgreSQL the two compared by range (an action prefix, a time
      // window) compare bytes, as SQLite does, whatever the database's collation.
      // SQLite runs a migration outside any transaction (Kysely has no transactional DDL there) and
      // the backfill of a large log takes minutes, so every step may run again after an
      // interruption: a column already added is kept, the backfill rewrites the same values, the
      // indexes are made if missing. On PostgreSQL the whole migration is one transaction.
      const bytewise = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : sql`text`;
      const table = (await db.introspection.getTables()).find((t) => t.name === 'audit_entries');
      const present = new Set(table?.columns.map((c) => c.name));
      for (const [name, type] of [
        ['time', bytewise],
        ['action', bytewise],
        ['outcome', sql`text`],
        ['actor_id', sql`text`],
        ['actor_name', sql`text`],
      ] as const) {
        if (!present.has(name)) await db.schema.alterTable('audit_entries').addColumn(name, type).execute();
      }
      await backfillSearchColumns(db);
      // Built after the backfill, in one pass each. Few, since every append pays for each: newest
      // first by action, by actor id, by actor name (usernames, and the CLI's and background jobs'
      // actors, which have no id), by time; denied and failed entries (rare, so nearly free) by
      // outcome. The recording has its index since 0003; the seq order is the primary key.
      await db.schema.createIndex('audit_entries_action').ifNotExists().on('audit_entries').columns(['action', 'seq']).execute();
      await db.schema.createIndex('audit_entries_actor').ifNotExists().on('audit_entries').columns(['actor_id', 'seq']).execute();
      await db.schema.createIndex('audit_entries_actor_name').ifNotExists().on('audit_entries').columns(['actor_name', 'seq']).execute();
      await db.schema.createIndex('audit_entries_time').ifNotExists().on('audit_entries').columns(['time', 'seq']).execute();
      await sql`CREATE INDEX IF NOT EXISTS audit_entries_not_success ON audit_entries (outcome, seq) WHERE outcome <> 'success'`.execute(db);
    },
  },
  '0008_ingest_attempts': {
    async up(db: Kysely<any>) {
      // Content is unique among stored recordings only. A pending row is one attempt at storing a
      // recording, and an attempt whose writer died must not keep a retry of the same audio from
      // storing it (src/recordings/store.ts): several attempts may be pending at once, and the
      // one that commits first makes the others duplicates.
      await db.schema.dropIndex('recordings_content').execute();
      await db.schema.createIndex('recordings_content').on('recordings').columns(['controller_id', 'content_sha256']).execute();
      await sql`CREATE UNIQUE INDEX recordings_content_stored ON recordings (controller_id, content_sha256) WHERE state = 'stored'`.execute(db);
    },
  },
  '0009_token_limits': {
    async up(db: Kysely<any>) {
      // An ingest token may be limited to regions and agents of its controller, comma-separated
      // as a contract's regions are; null (every token made before this) means no limit.
      await db.schema.alterTable('api_tokens').addColumn('regions', 'text').execute();
      await db.schema.alterTable('api_tokens').addColumn('agents', 'text').execute();
    },
  },
  '0010_signin_failures': {
    async up(db: Kysely<any>) {
      // Failed sign-ins per account and client address, and per account across all addresses
      // (address '*'): a count that decays with time, and a lock (src/identities/lockout.ts). It
      // replaces the per-account counter, which never decayed and let anyone lock anyone out.
      await db.schema
        .createTable('signin_failures')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('failures', 'double precision', (c) => c.notNull())
        .addColumn('last_failure_ms', 'bigint', (c) => c.notNull())
        .addColumn('locked_until_ms', 'bigint')
        .addPrimaryKeyConstraint('signin_failures_pk', ['user_id', 'address'])
        .execute();
      await db.schema.createIndex('signin_failures_last').on('signin_failures').column('last_failure_ms').execute();
      await db.schema.alterTable('users').dropColumn('failed_signins').execute();
      await db.schema.alterTable('users').dropColumn('locked_until').execute();
    },
  },
  '0011_four_eyes': {
    async up(db: Kysely<any>) {
      // Separation of duties (docs/access.md, "Approval"): an account that can reach recordings, and
      // a contract, is usable only once a second person of another role has approved it. Rows made
      // before this migration were made under the old rule and stay approved.
      for (const table of ['users', 'contracts']) {
        await db.schema
          .alterTable(table)
          .addColumn('approval', 'text', (c) => c.notNull().defaultTo('approved'))
          .execute();
        // what waits for approval (create, reset, enable), who asked and who decided
        await db.schema.alterTable(table).addColumn('approval_request', 'text').execute();
        await db.schema.alterTable(table).addColumn('approval_requested_by', 'text').execute();
        await db.schema.alterTable(table).addColumn('approval_decided_by', 'text').execute();
      }
      // a single-use enrolment code handed to the person (its SHA-256) and when it stops working:
      // the administrator never sees a password or an authenticator secret
      await db.schema.alterTable('users').addColumn('enrolment_hash', 'text').execute();
      await db.schema.alterTable('users').addColumn('enrolment_expires_at', 'text').execute();
    },
  },
  '0012_retention': {
    async up(db: Kysely<any>) {
      // Retention (docs/retention.md): days per controller and class, the class of each recording,
      // and when retention shredded it (an erased row whose key retention destroyed).
      await db.schema
        .createTable('retention_policies')
        .addColumn('controller_id', 'text', (c) => c.notNull().references('controllers.id'))
        .addColumn('class', 'text', (c) => c.notNull())
        .addColumn('days', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('retention_policies_pk', ['controller_id', 'class'])
        .execute();
      await db.schema
        .alterTable('recordings')
        .addColumn('retention_class', 'text', (c) => c.notNull().defaultTo('default'))
        .execute();
      await db.schema.alterTable('recordings').addColumn('shredded_at', 'text').execute();
      // Legal holds: what they cover is a recording, a person (blind-index digests per controller,
      // made when the hold is placed) or an agent's calls in a time window; released, not deleted.
      await db.schema
        .createTable('holds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'text')
        .addColumn('agent', 'text')
        .addColumn('from_time', 'text')
        .addColumn('to_time', 'text')
        .addColumn('case_ref', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('released_at', 'text')
        .addColumn('released_by', 'text')
        .addColumn('release_reason', 'text')
        // the controllers the hold was placed for (the placer's reach), comma-separated
        .addColumn('controllers', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('hold_digests')
        .addColumn('hold_id', 'text', (c) => c.notNull().references('holds.id'))
        .addColumn('controller_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('hold_digests_digest').on('hold_digests').columns(['digest']).execute();
      // the objects still to delete after an erasure or a shred: found without walking every tombstone
      await sql`CREATE INDEX recordings_erasure_debris ON recordings (id) WHERE erasure_debris IS NOT NULL`.execute(db);
    },
  },
  '0013_destroyed_identifiers': {
    async up(db: Kysely<any>) {
      // The patient's access log outlives the recordings (PDL 8 kap.): when a recording is destroyed
      // (erased, or shredded by retention), the blind-index digests that tie a person's identifiers
      // to it move here from `recording_identifiers`, so that no search, list or count finds the
      // recording and the access log still does. Keyed HMACs only. No reference to `recordings`:
      // the link must not depend on what a destroyer keeps of the row.
      await db.schema
        .createTable('destroyed_identifiers')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'text', (c) => c.notNull())
        .addColumn('controller_id', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('destruction', 'text', (c) => c.notNull())
        .addColumn('destroyed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('destroyed_identifiers_pk', ['kind', 'digest', 'recording_id'])
        .execute();
      await db.schema.createIndex('destroyed_identifiers_recording').on('destroyed_identifiers').column('recording_id').execute();
    },
  },
  '0014_insider_misuse': {
    async up(db: Kysely<any>) {
      // Insider misuse (docs/alerts.md): alerts raised by the detector over the audit stream, where
      // it stands, thresholds per controller, staff identifiers and persons marked protected (keyed
      // digests per controller only), working hours, canaries (sealed: known to the keyring only),
      // and the documented log review (loggkontroll).
      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('username', 'text')
        .addColumn('role', 'text')
        // the controllers whose recordings the alert concerns, comma-separated ('' for none)
        .addColumn('controllers', 'text', (c) => c.notNull())
        // one open alert per rule, account and window: later evidence joins it
        .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        // JSON arrays: the audit positions that are the evidence, and the recordings they reached
        .addColumn('entries', 'text', (c) => c.notNull())
        .addColumn('recordings', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('note', 'text')
        .addColumn('resolved_by', 'text')
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema.createIndex('alerts_state_created').on('alerts').columns(['state', 'created_at']).execute();
      await db.schema.createIndex('alerts_user').on('alerts').columns(['user_id']).execute();
      await db.schema
        .createTable('detector_state')
        .addColumn('name', 'text', (c) => c.primaryKey())
        // the next audit position to evaluate
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alert_settings')
        .addColumn('controller_id', 'text', (c) => c.notNull())
        // JSON object of threshold overrides (docs/alerts.md)
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_settings_pk', ['controller_id'])
        .execute();
      await db.schema.alterTable('users').addColumn('work_hours', 'text').execute();
      await db.schema
        .createTable('staff_identifiers')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('controller_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('staff_identifiers_pk', ['user_id', 'controller_id', 'kind', 'digest'])
        .execute();
      await db.schema.createIndex('staff_identifiers_digest').on('staff_identifiers').columns(['digest']).execute();
      await db.schema
        .createTable('protected_subjects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // with any identifier in it replaced by its label
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('released_at', 'text')
        .addColumn('released_by', 'text')
        .execute();
      await db.schema
        .createTable('protected_digests')
        .addColumn('protected_id', 'text', (c) => c.notNull().references('protected_subjects.id'))
        .addColumn('controller_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('protected_digests_digest').on('protected_digests').columns(['digest']).execute();
      await db.schema
        .createTable('canaries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // the canary's recording id and synthetic identity, sealed under a key from the keyring
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('review_periods')
        .addColumn('period', 'text', (c) => c.primaryKey())
        .addColumn('seed', 'text', (c) => c.notNull())
        .addColumn('drawn_by', 'text', (c) => c.notNull())
        .addColumn('drawn_at', 'text', (c) => c.notNull())
        // how the sample was chosen, JSON (counts, weights)
        .addColumn('method', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('review_samples')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('period', 'text', (c) => c.notNull().references('review_periods.period'))
        .addColumn('position', 'bigint', (c) => c.notNull())
        // 'random', or the rule whose weight drew it
        .addColumn('chosen_by', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('note', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('reviewed_at', 'text')
        .execute();
      await db.schema.createIndex('review_samples_period').on('review_samples').columns(['period', 'position']).unique().execute();
    },
  },

  // display names for the region codes and agent ids recordings carry ("skane" → "Skåne"), so
  // the web UI names them as people do; controllers and processors have names since 0001/0002
  '0015_display_names': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('display_names')
        // 'region' or 'agent'
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('display_names_pk', ['kind', 'id'])
        .execute();
    },
  },

  '0016_import_journal': {
    async up(db: Kysely<any>) {
      // What `callvault import` stored, by the source file's identity, so that a resumed import
      // skips an unchanged file without reading it (src/import/journal.ts, docs/metadata.md). No
      // path (paths hold phone numbers) and no content hash: a row left behind names nothing.
      // The stat values are decimal text, as unsigned 64-bit numbers fit neither database's integer.
      await db.schema
        .createTable('import_journal')
        .addColumn('inode', 'text', (c) => c.notNull())
        .addColumn('device', 'text', (c) => c.notNull())
        .addColumn('controller_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('mtime_ns', 'text', (c) => c.notNull())
        .addColumn('ctime_ns', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('import_journal_pk', ['inode', 'device', 'controller_id'])
        .execute();
      await db.schema.createIndex('import_journal_recording').on('import_journal').column('recording_id').execute();
    },
  },

  '0017_audit_verifications': {
    async up(db: Kysely<any>) {
      // Which signed checkpoint a verification of the audit log reached, and when: where
      // `audit verify --since-checkpoint` starts (src/audit/verifications.ts). Only a pointer to a
      // signed checkpoint: the check starts from the checkpoint's signed root, never from this row.
      await db.schema
        .createTable('audit_verifications')
        .addColumn('size', 'bigint', (c) => c.notNull())
        // 'full' (every entry re-hashed) or 'incremental' (the entries after an earlier one)
        .addColumn('mode', 'text', (c) => c.notNull())
        // the checkpoint's root hash, base64
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('verified_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_verifications_pk', ['size', 'mode'])
        .execute();
    },
  },

  '0018_revocation_epoch': {
    async up(db: Kysely<any>) {
      // One number that every change to what authenticates and authorises a person moves on: their
      // account, sessions ended, stated purposes, contracts, break-the-glass periods. A server keeps
      // a session and a grant in memory as long as the number it read with them is the number now
      // (src/identities/epoch-cache.ts): one read of one row per request instead of six, and a
      // revocation made on any server that shares the database takes effect at its next request.
      // Triggers, not the code that writes, so no path that revokes (a command, another server, a
      // migration, an operator's SQL) can forget it. Sessions move it only when they end: the
      // last-seen time written every minute does not.
      // SQLite runs a migration outside a transaction: every step may run again after an interruption
      await db.schema
        .createTable('revocation_epoch')
        .ifNotExists()
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('epoch', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('revocation_epoch')
        .values({ id: 1, epoch: 0 })
        .onConflict((c) => c.column('id').doNothing())
        .execute();
      const watched: [table: string, events: string[]][] = [
        ['users', ['INSERT', 'UPDATE', 'DELETE']],
        ['sessions', ['UPDATE OF revoked_at, expires_at, user_id', 'DELETE']],
        ['access_grants', ['INSERT', 'UPDATE', 'DELETE']],
        ['contracts', ['INSERT', 'UPDATE', 'DELETE']],
        ['break_glass', ['INSERT', 'UPDATE', 'DELETE']],
      ];
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        await sql`CREATE OR REPLACE FUNCTION callvault_revocation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN UPDATE revocation_epoch SET epoch = epoch + 1 WHERE id = 1; RETURN NULL; END $$`.execute(db);
        for (const [table, events] of watched) {
          await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_revocation`)} ON ${sql.table(table)}`.execute(db);
          await sql`CREATE TRIGGER ${sql.raw(`${table}_revocation`)} AFTER ${sql.raw(events.join(' OR '))} ON ${sql.table(table)}
            FOR EACH STATEMENT EXECUTE FUNCTION callvault_revocation_bump()`.execute(db);
        }
        return;
      }
      for (const [table, events] of watched) {
        for (const event of events) {
          const name = `${table}_revocation_${event.split(' ')[0]!.toLowerCase()}`;
          await sql`CREATE TRIGGER IF NOT EXISTS ${sql.raw(name)} AFTER ${sql.raw(event)} ON ${sql.table(table)}
            BEGIN UPDATE revocation_epoch SET epoch = epoch + 1 WHERE id = 1; END`.execute(db);
        }
      }
    },
  },

  '0019_alert_evidence_facts': {
    async up(db: Kysely<any>) {
      // An alert's evidence as facts (src/alerts/evidence.ts: a kind and its counts, JSON), so
      // that the web UI phrases it in the reader's language; `evidence` keeps the English words.
      // Null for alerts raised before: they are shown in those words.
      await db.schema.alterTable('alerts').addColumn('evidence_facts', 'text').execute();
    },
  },
};

/** rows read per query, and rows written per UPDATE (6 parameters each: under SQLite's 32,766) */
const BACKFILL_READ = 5000;
const BACKFILL_WRITE = 1000;

/**
 * Fills the search columns of the entries already stored, in batches, with `entryColumns`: a
 * copy of the function append and verify used when 0007 was released, so the backfilled columns
 * are what verify expects for any entry text (the databases' own JSON functions differ on U+0000 and lone surrogates, and
 * PostgreSQL refuses such an entry outright). An entry that is not a JSON object gets nulls;
 * verify reports it anyway.
 */
async function backfillSearchColumns(db: Kysely<any>): Promise<void> {
  let after = -1;
  for (;;) {
    const rows: { seq: number | string; entry: string }[] = await db
      .selectFrom('audit_entries')
      .select(['seq', 'entry'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(BACKFILL_READ)
      .execute();
    if (rows.length === 0) return;
    after = Number(rows[rows.length - 1]!.seq);
    const values = rows.map((r) => {
      try {
        const c = entryColumns(r.entry);
        return [Number(r.seq), c.time, c.action, c.outcome, c.actor_id, c.actor_name] as const;
      } catch {
        return [Number(r.seq), null, null, null, null, null] as const;
      }
    });
    for (let i = 0; i < values.length; i += BACKFILL_WRITE) {
      const batch = values.slice(i, i + BACKFILL_WRITE);
      const tuples = batch.map(([seq, ...text]) => sql`(cast(${seq} as bigint), ${sql.join(text.map((t) => sql`cast(${t} as text)`))})`);
      // VALUES names its columns column1, column2, … on both databases. The seq range keeps the
      // join to the batch's rows: without it SQLite walks the whole seq index for every batch.
      await sql`UPDATE audit_entries SET "time" = v.column2, action = v.column3, outcome = v.column4, actor_id = v.column5, actor_name = v.column6
        FROM (VALUES ${sql.join(tuples)}) AS v
        WHERE audit_entries.seq = v.column1 AND audit_entries.seq >= ${batch[0]![0]} AND audit_entries.seq <= ${batch[batch.length - 1]![0]}`.execute(db);
    }
  }
}

// —— frozen copies of live code, as it was when the migrations above were released ——

/**
 * The lookup columns (the recording an entry concerns, the keyed hash of the identifier it names)
 * as migration 0003 backfilled them (src/audit/audit-log.ts until 0007; the tests that stand for
 * that migration use it from here).
 */
export function indexedColumns(entry: string): { recording_id: string | null; identifier_hash: string | null } {
  if (!entry.includes('"recordingId":') && !entry.includes('Hash":')) return { recording_id: null, identifier_hash: null };
  const e = JSON.parse(entry) as { recordingId?: unknown; detail?: { personnummerHash?: unknown; phoneHash?: unknown } };
  const hash = e.detail?.personnummerHash ?? e.detail?.phoneHash;
  return { recording_id: typeof e.recordingId === 'string' ? e.recordingId : null, identifier_hash: typeof hash === 'string' ? hash : null };
}

/** `entryColumns` and `storable` of src/audit/audit-log.ts as migration 0007 was released with them */
function entryColumns(entry: string): Record<'recording_id' | 'identifier_hash' | 'time' | 'action' | 'outcome' | 'actor_id' | 'actor_name', string | null> {
  const e: unknown = JSON.parse(entry);
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new TypeError('an audit entry is a JSON object');
  const { recordingId, detail, time, action, outcome, actor } = e as Record<string, unknown>;
  const d = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>) : {};
  const a = typeof actor === 'object' && actor !== null ? (actor as Record<string, unknown>) : {};
  return {
    recording_id: storable(recordingId),
    identifier_hash: storable(d.personnummerHash ?? d.phoneHash),
    time: storable(time),
    action: storable(action),
    outcome: storable(outcome),
    actor_id: storable(a.id),
    actor_name: storable(a.name),
  };
}

function storable(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return /[\0\ud800-\udfff]/.test(value) ? Buffer.from(value, 'utf8').toString('utf8').replaceAll('\0', '\ufffd') : value;
}

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
