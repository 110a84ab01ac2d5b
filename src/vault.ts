/**
 * A data directory opened: configuration, metadata database, blob store and key provider.
 *
 *   DATA/config.json         what kind of database this directory uses; no secrets
 *   DATA/callvault.db        SQLite metadata (unless CALLVAULT_DATABASE_URL names PostgreSQL)
 *   DATA/objects/            encrypted recordings (unless CALLVAULT_BLOB_URL names a bucket)
 *   DATA/keys/keyring.json   controller key pairs and the installation secret, sealed under the passphrase
 *                            (or wherever CALLVAULT_KMS=file:PATH puts it: keys apart from the data)
 *   DATA/keys/audit-signing.key  the audit checkpoint signing key, beside the keyring wherever it is
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CallvaultError, ErrorCodes } from './errors.js';
import { writeFileAtomic } from './util/fs.js';
import { openDatabase, type Dialect, type MetadataDatabase } from './db/database.js';
import { RecordingsRepository } from './db/recordings-repository.js';
import { AlertsRepository } from './db/alerts-repository.js';
import { ControllersRepository } from './db/controllers-repository.js';
import { UsersRepository } from './db/users-repository.js';
import { TenancyRepository } from './db/tenancy-repository.js';
import { NamesRepository } from './db/names-repository.js';
import { SessionsRepository } from './db/sessions-repository.js';
import { GrantsRepository } from './db/grants-repository.js';
import { RetentionRepository } from './db/retention-repository.js';
import { CoordinationRepository } from './db/coordination-repository.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditTree } from './audit/tree.js';
import { AuditCheckpoints } from './audit/checkpoints.js';
import type { RecordedVerifyReport, VerifyOptions } from './audit/verify.js';
import { loadOrCreateSigner, SIGNING_KEY_FILE } from './audit/signing-key.js';
import type { NoteSigner } from './audit/signed-note.js';
import { parseWitnesses } from './audit/witnesses/index.js';
import type { BlobStore } from './storage/blob-store.js';
import { blobStoreFromUrl } from './storage/blob-url.js';
import type { KeyProvider } from './keys/key-provider.js';
import { DEFAULT_REDACTION, type RedactionOptions } from './redaction/options.js';
import { KeyfileProvider, type DEFAULT_KDF } from './keys/keyfile/keyfile-provider.js';
import type { PinEnvironment } from './keys/pkcs11/pkcs11-provider.js';

export interface VaultConfig {
  format: 'callvault-data/v1';
  database: Dialect;
  /**
   * 'data-dir': DATA/keys/keyring.json; 'external': a keyring named by CALLVAULT_KMS=file:PATH;
   * 'pkcs11': keys on an HSM named by CALLVAULT_KMS=pkcs11:… (src/keys/pkcs11)
   */
  keyring: 'data-dir' | 'external' | 'pkcs11';
  createdAt: string;
  defaultController: string;
  /** the SBCs that may record here (`callvault siprec`), as the operator wrote them: read by parseSiprecConfig (src/siprec/mapping.ts, docs/siprec.md) */
  siprec?: unknown;
}

/** what the configuration (src/config.ts) says about the vault; each absent value takes its default */
export interface VaultEnvironment {
  /** CALLVAULT_DATABASE_URL */
  databaseUrl?: string;
  /** CALLVAULT_KMS */
  kms?: string;
  /** what a pin-source=env:NAME in CALLVAULT_KMS names */
  pinEnvironment?: PinEnvironment;
  /** CALLVAULT_AUDIT_WITNESS: comma-separated witnesses that receive every new checkpoint */
  witnesses?: string;
  /** CALLVAULT_AUDIT_ORIGIN: the name of a new checkpoint signing key */
  auditOrigin?: string;
  /** CALLVAULT_BLOB_URL: s3://bucket[/prefix]?endpoint=…; absent, files in DATA/objects */
  blobUrl?: string;
  /** AWS_REGION or AWS_DEFAULT_REGION, for an S3 endpoint named without a region */
  awsRegion?: string;
  /** the redaction fill and padding, the transcription service (src/redaction/options.ts); absent, DEFAULT_REDACTION */
  redaction?: RedactionOptions;
  /** CALLVAULT_TIME_ZONE: working hours and days of the alert rules; absent, Europe/Stockholm */
  timeZone?: string;
  /** CALLVAULT_ALERT_OUTPUT: comma-separated outputs that receive every new alert (src/alerts/outputs.ts) */
  alertOutput?: string;
}

export const DEFAULT_TIME_ZONE = 'Europe/Stockholm';

export class Vault {
  readonly recordings: RecordingsRepository;
  readonly controllers: ControllersRepository;
  readonly users: UsersRepository;
  readonly tenancy: TenancyRepository;
  readonly names: NamesRepository;
  readonly sessions: SessionsRepository;
  readonly grants: GrantsRepository;
  readonly coordination: CoordinationRepository;
  readonly retention: RetentionRepository;
  readonly alerts: AlertsRepository;
  readonly audit: AuditLog;
  readonly auditTree: AuditTree;
  private signer?: Promise<NoteSigner>;
  readonly #closers: (() => Promise<void>)[] = [];

  private constructor(
    readonly dataDir: string,
    readonly config: VaultConfig,
    readonly database: MetadataDatabase,
    readonly blobs: BlobStore,
    readonly keys: KeyProvider,
    /** where the audit signing key lives: beside a keyring file, or in DATA/keys with an HSM */
    private readonly keysDir: string,
    private readonly env: VaultEnvironment,
  ) {
    this.recordings = new RecordingsRepository(database.db, () => database.writer);
    this.controllers = new ControllersRepository(database.db);
    this.users = new UsersRepository(database.db);
    this.tenancy = new TenancyRepository(database.db);
    this.names = new NamesRepository(database.db);
    this.sessions = new SessionsRepository(database.db);
    this.grants = new GrantsRepository(database.db);
    this.coordination = new CoordinationRepository(database.db);
    this.retention = new RetentionRepository(database.db);
    this.alerts = new AlertsRepository(database.db);
    this.audit = new AuditLog(database.auditStore, () => (keys.unlocked ? keys.derivedSecret('audit-identifier-hash') : undefined));
    this.auditTree = new AuditTree(database.db);
  }

  /** the checkpoint signing key, created beside the keyring the first time it is needed */
  auditSigner(): Promise<NoteSigner> {
    this.signer ??= loadOrCreateSigner(join(this.keysDir, SIGNING_KEY_FILE), this.env.auditOrigin);
    return this.signer;
  }

  /** CALLVAULT_AUDIT_WITNESS as given */
  get witnessSpecs(): string | undefined {
    return this.env.witnesses;
  }

  /**
   * `audit verify`: the whole log (or, `sinceCheckpoint`, the entries after the last verified
   * checkpoint) against its checkpoints and the given witnessed ones; a pass is recorded
   */
  async verifyAudit(witnessNotes: readonly string[] = [], options: Omit<VerifyOptions, 'url'> = {}): Promise<RecordedVerifyReport> {
    const signer = await this.auditSigner();
    const [{ verifyAndRecord }, { sqliteRowReader }] = await Promise.all([import('./audit/verify.js'), import('./audit/verify-rows.js')]);
    const readRows = this.database.sqlite ? sqliteRowReader(this.database.sqlite) : undefined;
    return verifyAndRecord(this.database.db, this.auditTree, { verifier: signer.verifier, origin: signer.name }, witnessNotes, { url: this.database.url, readRows, ...options });
  }

  /** the time zone of working hours and of the alert rules' days */
  get timeZone(): string {
    return this.env.timeZone ?? DEFAULT_TIME_ZONE;
  }

  /** CALLVAULT_ALERT_OUTPUT as given */
  get alertOutputSpecs(): string | undefined {
    return this.env.alertOutput;
  }

  /** how identifiers are redacted, from the configuration (src/redaction/options.ts) */
  redaction(): RedactionOptions {
    return this.env.redaction ?? DEFAULT_REDACTION;
  }

  /** checkpoints of the audit log, handed to the witnesses named by CALLVAULT_AUDIT_WITNESS */
  async auditCheckpoints(): Promise<AuditCheckpoints> {
    return new AuditCheckpoints(this.database.db, this.auditTree, await this.auditSigner(), parseWitnesses(this.env.witnesses));
  }

  static async open(dataDir: string, env: VaultEnvironment = {}): Promise<Vault> {
    const config = await readConfig(dataDir);
    const url = databaseUrl(dataDir, config.database, env);
    let keys: KeyProvider;
    let keysDir: string;
    if (config.keyring === 'pkcs11') {
      if (!env.kms?.startsWith('pkcs11:')) throw new CallvaultError(ErrorCodes.USAGE, 'this data directory keeps its keys on an HSM: set CALLVAULT_KMS=pkcs11:…');
      const { Pkcs11KeyProvider } = await import('./keys/pkcs11/pkcs11-provider.js');
      keys = await Pkcs11KeyProvider.open(env.kms, env.pinEnvironment);
      keysDir = join(dataDir, 'keys');
    } else {
      const keyringFile = keyringPath(dataDir, config.keyring, env);
      keys = await KeyfileProvider.load(keyringFile);
      keysDir = dirname(keyringFile);
    }
    const blobs = await blobStore(env, dataDir);
    const database = await openDatabase(url);
    return new Vault(dataDir, config, database, blobs, keys, keysDir, env);
  }

  /**
   * Creates the data directory with its first controller and key pair. config.json is written
   * last: a directory without it is an interrupted init, never a usable vault.
   */
  static async create(
    dataDir: string,
    options: { passphrase: string; controllerId: string; controllerName: string; kdf?: typeof DEFAULT_KDF },
    env: VaultEnvironment = {},
  ): Promise<Vault> {
    if (await exists(join(dataDir, 'config.json'))) {
      throw new CallvaultError(ErrorCodes.ALREADY_INITIALISED, `${dataDir} is already a callvault data directory`);
    }
    const keyring: VaultConfig['keyring'] = env.kms?.startsWith('pkcs11:') ? 'pkcs11' : env.kms ? 'external' : 'data-dir';
    const keyringFile = keyring === 'pkcs11' ? undefined : keyringPath(dataDir, keyring, env);
    if (keyringFile && (await exists(keyringFile))) {
      throw new CallvaultError(
        ErrorCodes.ALREADY_INITIALISED,
        keyring === 'external' ? 'the keyring named by CALLVAULT_KMS exists already: name a new file' : `${dataDir} holds an interrupted init: remove it and run init again`,
      );
    }
    const keysDir = keyringFile ? dirname(keyringFile) : join(dataDir, 'keys');
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    if (!env.blobUrl) await mkdir(join(dataDir, 'objects'), { recursive: true, mode: 0o700 });
    const config: VaultConfig = {
      format: 'callvault-data/v1',
      database: env.databaseUrl ? 'postgres' : 'sqlite',
      keyring,
      createdAt: new Date().toISOString(),
      defaultController: options.controllerId,
    };
    // with an HSM, the passphrase is the token's user PIN (empty: its pin-source)
    const keys = keyringFile
      ? await KeyfileProvider.create(keyringFile, options.passphrase, options.kdf)
      : await (await import('./keys/pkcs11/pkcs11-provider.js')).Pkcs11KeyProvider.create(env.kms!, options.passphrase, env.pinEnvironment);
    const blobs = await blobStore(env, dataDir);
    const database = await openDatabase(databaseUrl(dataDir, config.database, env));
    const vault = new Vault(dataDir, config, database, blobs, keys, keysDir, env);
    await vault.controllers.add({ id: options.controllerId, name: options.controllerName, created_at: config.createdAt });
    await keys.generate(options.controllerId);
    await vault.auditSigner();
    await writeFileAtomic(join(dataDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, 0o644);
    return vault;
  }

  async unlock(passphrase: string): Promise<void> {
    if (!this.keys.unlocked) await this.keys.unlock(passphrase);
  }

  /** work to finish before the database closes (a writer releasing its lease) */
  onClose(fn: () => Promise<void>): void {
    this.#closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.#closers.splice(0)) await fn();
    await this.database.close();
    await (this.keys as { close?: () => Promise<void> }).close?.();
  }
}

function blobStore(env: VaultEnvironment, dataDir: string): Promise<BlobStore> {
  return blobStoreFromUrl(env.blobUrl, dataDir, env.awsRegion ? { defaultRegion: env.awsRegion } : {});
}

async function readConfig(dataDir: string): Promise<VaultConfig> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'config.json'), 'utf8');
  } catch {
    throw new CallvaultError(ErrorCodes.NOT_INITIALISED, `${dataDir} is not a callvault data directory: run \`callvault init\``);
  }
  const config = JSON.parse(text) as VaultConfig;
  if (config.format !== 'callvault-data/v1') {
    throw new CallvaultError(ErrorCodes.NOT_INITIALISED, `${dataDir}/config.json is not a callvault configuration`);
  }
  return config;
}

function keyringPath(dataDir: string, keyring: VaultConfig['keyring'], env: VaultEnvironment): string {
  if (env.kms && !env.kms.startsWith('file:')) {
    throw new CallvaultError(
      ErrorCodes.USAGE,
      env.kms.startsWith('pkcs11:')
        ? 'this data directory keeps its keys in a keyring file: unset CALLVAULT_KMS or set it to file:PATH'
        : 'CALLVAULT_KMS must be file:PATH or pkcs11:…',
    );
  }
  const external = env.kms?.slice('file:'.length);
  if (keyring === 'external') {
    if (!external) throw new CallvaultError(ErrorCodes.USAGE, 'this data directory keeps its keyring elsewhere: set CALLVAULT_KMS=file:PATH');
    return resolve(external);
  }
  if (external) throw new CallvaultError(ErrorCodes.USAGE, 'this data directory keeps its keyring inside it: unset CALLVAULT_KMS');
  return join(dataDir, 'keys', 'keyring.json');
}

function databaseUrl(dataDir: string, dialect: Dialect, env: VaultEnvironment): string {
  if (dialect === 'postgres') {
    if (!env.databaseUrl) {
      throw new CallvaultError(ErrorCodes.USAGE, 'this data directory keeps its metadata in PostgreSQL: set CALLVAULT_DATABASE_URL');
    }
    return env.databaseUrl;
  }
  if (env.databaseUrl) {
    throw new CallvaultError(ErrorCodes.USAGE, 'this data directory keeps its metadata in SQLite: unset CALLVAULT_DATABASE_URL');
  }
  return `sqlite:${join(dataDir, 'callvault.db')}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
