import busboy from 'busboy';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { finished, PassThrough, Readable } from 'node:stream';
import { WharfError } from '../common/errors/wharf-error';
import { assertFilePath } from '../common/validation/file-path';
import type { ArtifactStore } from '../storage/artifact-store';

/** A file of a form, stored under `key` (a key of the request's own, not yet a blob). */
export interface ReceivedFile {
  path: string;
  key: string;
  size: number;
  sha256: string;
}

export interface FormLimits {
  maxFileSize: number;
  maxFiles: number;
}

interface InFlight extends ReceivedFile {
  bytes: PassThrough;
  stored: Promise<void>;
  settled: boolean;
}

/**
 * Reads a multipart/form-data body and streams each file part to the store under a new key
 * while its sha256 is computed. All or nothing: it resolves only once the whole form was read
 * and every file is stored. On any failure (a bad path, a limit, a form cut short, the client
 * going away, the store failing) it stops reading, ends every store write still in flight,
 * waits for all of them, deletes what they stored and only then rejects: a write that finished
 * after the deletes would leave an object no row knows of, and one left waiting would keep its
 * temp file and buffers for ever.
 */
export function receiveForm(
  store: ArtifactStore,
  headers: IncomingHttpHeaders,
  body: Readable,
  limits: FormLimits,
  newKey: () => string,
): Promise<ReceivedFile[]> {
  return new Promise<ReceivedFile[]>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // defParamCharset: browsers and curl send a filename as raw UTF-8; busboy's default,
      // latin1, would store `modèle` as `modÃ¨le`.
      parser = busboy({ headers, preservePath: true, defParamCharset: 'utf8', limits: { fileSize: limits.maxFileSize, files: limits.maxFiles, fields: 0 } });
    } catch (error) {
      reject(new WharfError('validation_failed', `The form cannot be read: ${(error as Error).message}`));
      return;
    }
    const form = new FormReception(store, body, parser, limits, newKey, { resolve, reject });
    parser.on('file', (_field, file, info) => form.receiveFile(file, info.filename));
    parser.on('field', (name) => form.fail(new WharfError('validation_failed', `Unexpected form field "${name}"; send files only`)));
    parser.on('filesLimit', () => form.fail(new WharfError('validation_failed', `At most ${limits.maxFiles} files per request`)));
    parser.on('fieldsLimit', () => form.fail(new WharfError('validation_failed', 'Send files only, no other form fields')));
    parser.on('error', (error: Error) => form.fail(formError(error)));
    parser.on('close', () => form.parsed());
    // A client that goes away mid-body (or already has) ends the form; `finished` also reports
    // a body destroyed before this point, which 'error' and 'close' listeners would miss.
    finished(body, (error) => {
      if (error) form.fail(new WharfError('validation_failed', 'The request body ended before the form did: the client went away'));
    });
    body.pipe(parser);
  });
}

/** One form being read: its files in flight, and the one way it ends (all stored, or failed and cleaned up). */
class FormReception {
  private readonly files: InFlight[] = [];
  private failed = false;

  constructor(
    private readonly store: ArtifactStore,
    private readonly body: Readable,
    private readonly parser: busboy.Busboy,
    private readonly limits: FormLimits,
    private readonly newKey: () => string,
    private readonly outcome: { resolve(files: ReceivedFile[]): void; reject(error: unknown): void },
  ) {}

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.body.unpipe(this.parser);
    // The rest of the body is read and dropped, so that the client gets the answer.
    if (!this.body.destroyed) this.body.resume();
    // Destroying the parser also destroys the file stream it is writing, if any. Not at once:
    // fail() often runs inside one of busboy's own events ('limit', 'file'), and busboy goes on
    // using that file stream after it (a TypeError thrown from its parser otherwise).
    process.nextTick(() => this.parser.destroy());
    for (const file of this.files) if (!file.settled) file.bytes.destroy(error instanceof Error ? error : new Error(String(error)));
    void this.allSettled()
      .then(() => deleteAll(this.store, this.files.map((file) => file.key)))
      .then(() => this.outcome.reject(error));
  }

  receiveFile(file: Readable, filename: string | undefined): void {
    // Busboy destroys a file stream it cannot finish (a form cut short, a parser destroyed);
    // an 'error' without a listener would take the whole process down.
    file.on('error', (error: Error) => this.fail(formError(error)));
    if (this.failed) return void file.resume();
    let path: string;
    try {
      path = this.acceptPath(filename);
    } catch (error) {
      file.resume();
      return this.fail(error);
    }
    const hash = createHash('sha256');
    let size = 0;
    const bytes = new PassThrough({ highWaterMark: 1024 * 1024 });
    // The store's write reports this stream's errors; this listener only keeps a destroy
    // before the store has attached its own from being an uncaught 'error'.
    bytes.on('error', () => undefined);
    file.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    file.on('limit', () => this.fail(new WharfError('file_too_large', `"${path}" is larger than the ${this.limits.maxFileSize} bytes allowed`)));
    file.pipe(bytes);
    const entry: InFlight = { path, key: this.newKey(), size: 0, sha256: '', bytes, settled: false, stored: Promise.resolve() };
    this.files.push(entry);
    entry.stored = this.store.put(entry.key, bytes).then(
      () => {
        entry.size = size;
        entry.sha256 = hash.digest('hex');
        entry.settled = true;
      },
      (error: unknown) => {
        entry.settled = true;
        this.fail(error);
      },
    );
  }

  /** The parser read the whole body: the form is done once every store write is. */
  parsed(): void {
    if (this.failed) return;
    void this.allSettled().then(() => {
      if (!this.failed) this.outcome.resolve(this.files.map(({ path, key, size, sha256 }) => ({ path, key, size, sha256 })));
    });
  }

  private acceptPath(filename: string | undefined): string {
    const path = assertFilePath(filename, 'filename');
    if (this.files.some((other) => other.path === path)) {
      throw new WharfError('validation_failed', `The form holds "${path}" twice`, { errors: [{ field: path, message: 'duplicate path' }] });
    }
    return path;
  }

  private allSettled(): Promise<unknown> {
    return Promise.allSettled(this.files.map((file) => file.stored));
  }
}

/** What busboy reports about a malformed form, said for the client. */
function formError(error: Error): WharfError {
  const reason = /Unexpected end of (form|file)/.test(error.message) ? 'it ends before its closing boundary' : error.message;
  return new WharfError('validation_failed', `The form cannot be read: ${reason}`);
}

/** At most this many deletes at once: a thousand at a time made S3 servers drop some of them. */
const DELETE_CONCURRENCY = 8;

/**
 * Deletes the objects of a refused form. One that still fails (the store is down) leaves an
 * object no row names, which garbage collection removes.
 */
export async function deleteAll(store: ArtifactStore, keys: string[]): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      await store.delete(key).catch(() => store.delete(key!).catch(() => undefined));
    }
  };
  await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
}
