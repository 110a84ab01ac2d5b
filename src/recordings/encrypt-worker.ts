/**
 * Runs in a worker thread: makes each recording's data key, encrypts and hashes the audio streamed
 * to it by EncryptWorkerPool, wraps the data key to the controller's public key and seals the
 * identifiers. The data key never leaves this thread, and imports keep every core busy.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { RecordingEncryptor } from '../container/encrypt.js';
import { dataKeyContext, wrapDataKey } from '../keys/hpke.js';
import { sealMetadata, sealTranscript } from './sealed-metadata.js';
import type { ToWorker, FromWorker } from './encrypt-workers.js';
import type { SealedFields } from './sealed-metadata.js';

interface Job {
  encryptor: RecordingEncryptor;
  /** wraps the data key and seals the fields (once), then forgets the data key */
  seal: (fields: SealedFields) => Promise<{ wrappedKey: string; sealedMetadata: string; sealedTranscript?: string }>;
  /** the fields given at the start */
  fields?: SealedFields;
  /** zeroes a data key kept for fields given at the end, when the recording is aborted */
  forget?: () => void;
  content: Hash;
  cipher: Hash;
  plaintextSize: number;
  ciphertextSize: number;
}

const jobs = new Map<number, Job>();
const port = parentPort!;

function send(message: FromWorker, buf?: Buffer): void {
  // transfer only what this buffer owns outright: small buffers share a pool with others
  const own = buf && buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  port.postMessage(message, own ? [buf.buffer as ArrayBuffer] : []);
}

function output(id: number, job: Job, out: Buffer): void {
  job.cipher.update(out);
  job.ciphertextSize += out.length;
  send({ type: 'out', id, buf: out }, out);
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'start') {
      const dataKey = randomBytes(32);
      const wrapped = wrapDataKey(Buffer.from(m.publicKey), dataKey, dataKeyContext(m.keyId, m.recordingId));
      wrapped.catch(() => {});
      const job: Job = {
        encryptor: new RecordingEncryptor(dataKey, m.recordingId),
        seal: async (fields) => {
          try {
            return {
              wrappedKey: (await wrapped).toString('base64'),
              sealedMetadata: sealMetadata(fields, dataKey, m.recordingId),
              ...(m.transcript ? { sealedTranscript: sealTranscript(Buffer.from(m.transcript), dataKey, m.recordingId) } : {}),
            };
          } finally {
            dataKey.fill(0);
          }
        },
        content: createHash('sha256'),
        cipher: createHash('sha256'),
        plaintextSize: 0,
        ciphertextSize: 0,
      };
      // fields known at the start are sealed at once and the data key forgotten; a live call's
      // (src/siprec/) are known only at its end, so its data key is kept until then
      if (m.journal) {
        const id = m.id;
        const sealedMetadata = sealMetadata(m.journal, dataKey, m.recordingId);
        wrapped.then(
          (w) => send({ type: 'key', id, wrappedKey: w.toString('base64'), sealedMetadata }),
          () => send({ type: 'error', id }),
        );
      }
      if (m.fields) {
        const sealed = job.seal(m.fields);
        sealed.catch(() => {});
        job.seal = () => sealed;
        job.fields = m.fields;
      } else {
        job.forget = () => dataKey.fill(0);
      }
      jobs.set(m.id, job);
      return;
    }
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.type === 'chunk') {
      const chunk = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
      job.content.update(chunk);
      job.plaintextSize += chunk.length;
      output(m.id, job, job.encryptor.update(chunk));
    } else if (m.type === 'end') {
      output(m.id, job, job.encryptor.final());
      jobs.delete(m.id);
      const fields = m.fields ?? job.fields;
      if (!fields) throw new Error('no fields to seal');
      job.seal(fields).then(
        (sealed) =>
          send({
            type: 'done',
            id: m.id,
            result: {
              contentSha256: job.content.digest('hex'),
              ciphertextSha256: job.cipher.digest('hex'),
              plaintextSize: job.plaintextSize,
              ciphertextSize: job.ciphertextSize,
              ...sealed,
            },
          }),
        () => send({ type: 'error', id: m.id }),
      );
    } else if (m.type === 'abort') {
      job.forget?.();
      jobs.delete(m.id);
    }
  } catch {
    jobs.get(m.id)?.forget?.();
    jobs.delete(m.id);
    send({ type: 'error', id: m.id });
  }
});
