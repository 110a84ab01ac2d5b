/**
 * Schema migrations, shared by SQLite and PostgreSQL. Append new ones; never edit a released one.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { indexedColumns } from '../audit/audit-log.js';

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
      await db.schema
        .createIndex('recordings_content')
        .on('recordings')
        .columns(['controller_id', 'content_sha256'])
        .unique()
        .execute();
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

      await db.schema.alterTable('users').addColumn('processor_id', 'text', (c) => c.references('processors.id')).execute();
      await db.schema.alterTable('users').addColumn('agent', 'text').execute();
      await db.schema.alterTable('users').addColumn('team', 'text').execute();
      await db.schema.alterTable('users').addColumn('totp_enrolled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('totp_last_step', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('password_one_time', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('failed_signins', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('locked_until', 'text').execute();
      await db.schema.alterTable('users').addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
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
      await db.schema.alterTable('recordings').addColumn('redaction', 'text', (c) => c.notNull().defaultTo('pending')).execute();
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
      await db.schema.alterTable('access_grants').addColumn('rendition', 'text', (c) => c.notNull().defaultTo('original')).execute();
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
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
