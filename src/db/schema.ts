/**
 * The metadata schema, one for SQLite and PostgreSQL. Columns that could identify a caller are
 * absent: identifiers live only inside `sealed_metadata` (encrypted under the recording's data
 * key) and as keyed blind indexes in `recording_identifiers` (docs/metadata.md).
 */
import type { ColumnType } from 'kysely';

export interface ControllersTable {
  id: string;
  name: string;
  created_at: string;
}

export type RecordingState = 'pending' | 'stored';

export interface RecordingsTable {
  id: string;
  controller_id: string;
  state: RecordingState;
  /** host:pid of the process writing a pending recording, so debris of dead writers can be found */
  writer: string | null;
  blob_key: string;
  key_id: string;
  /** HPKE enc ‖ ciphertext of the data key, base64 */
  wrapped_key: string;
  ciphertext_size: ColumnType<number, number, number>;
  ciphertext_sha256: string;
  /** SHA-256 of the original file, for idempotent import */
  content_sha256: string;
  plaintext_size: ColumnType<number, number, number>;
  format: string;
  codec: string;
  sample_rate: number;
  channels: number;
  duration_ms: number;
  agent: string | null;
  region: string | null;
  direction: string | null;
  started_at: string | null;
  /** identifiers (caller, personnummer, source file name and path), sealed, base64 */
  sealed_metadata: string;
  /** 0 until the blind indexes for the sealed identifiers have been written */
  indexed: number;
  imported_at: string;
}

export interface RecordingIdentifiersTable {
  kind: string;
  digest: string;
  recording_id: string;
}

export interface UsersTable {
  id: string;
  username: string;
  role: string;
  controller_id: string | null;
  password_hash: string;
  /** TOTP secret sealed under a key derived from the installation secret, base64 */
  totp_secret_sealed: string;
  created_at: string;
}

export interface Database {
  controllers: ControllersTable;
  recordings: RecordingsTable;
  recording_identifiers: RecordingIdentifiersTable;
  users: UsersTable;
}
