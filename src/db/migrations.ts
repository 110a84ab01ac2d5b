/**
 * Schema migrations, shared by SQLite and PostgreSQL. Append new ones; never edit a released one.
 */
import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

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
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
