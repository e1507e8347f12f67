/**
 * Where the sqlite store's writes run. Both writers group commit: requests made in one turn of the
 * event loop share one transaction (and one fsync), and each is checked on its own.
 *
 * - InlineWriter: in the calling thread, on the store's own connection. For `:memory:` (a second
 *   connection would see another database) and when asked for.
 * - ThreadedWriter: in a worker thread with its own connection to the file. Inserting rows and
 *   waiting for the WAL fsync then cost the engine's thread nothing: measured, they were about a
 *   third of its time (docs/benchmarks.md). The thread starts on the first write, so a store opened
 *   only to read never starts it.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { UnavailableError } from './errors.js';
import { CommitQueue, type CommitHooks, type CommitStats } from './sqlite-commit-queue.js';
import type { Durability } from './sqlite-schema.js';
import { packRequests, runWrite, unpackOutcome, type PackedOutcomes, type PackedRequests, type WriteRequest, type WriteResult } from './sqlite-write-requests.js';
import type { WriteContext } from './sqlite-writes.js';

export interface StoreWriter {
  write(request: WriteRequest): Promise<WriteResult>;
  readonly stats: CommitStats;
  /** Finish every write already requested, then release the writer. */
  close(): Promise<void>;
}

export class InlineWriter implements StoreWriter {
  readonly #queue: CommitQueue;
  readonly #context: WriteContext;

  constructor(db: Database.Database, context: WriteContext, hooks: CommitHooks) {
    this.#context = context;
    this.#queue = new CommitQueue(db, {
      ...hooks,
      begin: () => {
        context.heads.begin(context.statements.dataVersion.get() as number);
        hooks.begin?.();
      },
      afterRollback: () => {
        context.heads.clear();
        hooks.afterRollback?.();
      },
    });
  }

  write(request: WriteRequest): Promise<WriteResult> {
    return this.#queue.enqueue(() => runWrite(this.#context, request));
  }

  get stats(): CommitStats {
    return this.#queue.stats;
  }

  async close(): Promise<void> {
    this.#queue.flush();
  }
}

/** What the writer thread is started with. */
export interface WriterSettings {
  readonly path: string;
  readonly durability: Durability;
  readonly busyTimeoutMs: number;
}

export type ToWriter = { readonly kind: 'write'; readonly requests: PackedRequests } | { readonly kind: 'close' };

export type FromWriter = { readonly kind: 'committed'; readonly outcomes: PackedOutcomes } | { readonly kind: 'failed'; readonly message: string };

interface Pending {
  readonly request: WriteRequest;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCHES_IN_FLIGHT = 2;

const ENTRY = new URL('./sqlite-writer-entry.cjs', import.meta.url);

export class ThreadedWriter implements StoreWriter {
  readonly #settings: WriterSettings;
  readonly #afterCommit: () => void;
  #worker: Worker | undefined;
  /** Requested, not yet sent. */
  #queued: Pending[] = [];
  /**
   * Batches sent, oldest first, awaiting their outcomes (the thread answers in order). Two at most:
   * the thread starts the next as soon as it has committed one, and the next grows meanwhile.
   */
  readonly #inFlight: Pending[][] = [];
  #scheduled = false;
  #transactions = 0;
  #operations = 0;
  #idle: (() => void) | undefined;

  constructor(settings: WriterSettings, afterCommit: () => void) {
    this.#settings = settings;
    this.#afterCommit = afterCommit;
  }

  write(request: WriteRequest): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      this.#queued.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  get stats(): CommitStats {
    return { transactions: this.#transactions, operations: this.#operations };
  }

  async close(): Promise<void> {
    while (this.#inFlight.length > 0 || this.#queued.length > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        this.#schedule();
      });
    }
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Held until it has closed its connection, or the process could end first.
    worker.ref();
    worker.postMessage({ kind: 'close' } satisfies ToWriter);
    await exited;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight.length >= MAX_BATCHES_IN_FLIGHT) return;
    this.#scheduled = true;
    // A turn later: everything requested in this turn goes into the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#send();
    });
  }

  #send(): void {
    if (this.#inFlight.length >= MAX_BATCHES_IN_FLIGHT) return;
    if (this.#queued.length === 0) {
      if (this.#inFlight.length === 0) this.#becameIdle();
      return;
    }
    const batch = this.#queued;
    this.#queued = [];
    this.#inFlight.push(batch);
    let worker: Worker;
    try {
      worker = this.#start();
    } catch (error) {
      this.#inFlight.pop();
      for (const pending of batch) pending.reject(new UnavailableError(`The store's writer thread could not start: ${(error as Error).message}`, { cause: error }));
      return;
    }
    worker.ref();
    worker.postMessage({ kind: 'write', requests: packRequests(batch.map((pending) => pending.request)) } satisfies ToWriter);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(ENTRY, { workerData: this.#settings satisfies WriterSettings });
    worker.on('message', (message: FromWriter) => this.#onReply(message));
    worker.on('error', (error: Error) => this.#onStopped(worker, error));
    worker.on('exit', (code: number) => this.#onStopped(worker, new Error(`exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #onReply(message: FromWriter): void {
    const batch = this.#inFlight.shift();
    if (!batch) return;
    if (message.kind === 'committed') {
      this.#transactions += 1;
      this.#operations += batch.length;
      batch.forEach((pending, index) => {
        const outcome = unpackOutcome(message.outcomes, index);
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
      this.#afterCommit();
    } else {
      const failure = new UnavailableError(`The event store could not commit: ${message.message}`);
      for (const pending of batch) pending.reject(failure);
    }
    if (this.#queued.length > 0) this.#schedule();
    else if (this.#inFlight.length === 0) this.#becameIdle();
  }

  /**
   * The thread died (or exited unasked). The batch it held may or may not have committed: its
   * callers get UnavailableError, and appending the same events again is safe (idempotent ids).
   * The next write starts a new thread.
   */
  #onStopped(worker: Worker, error: Error): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    const failure = new UnavailableError(`The store's writer thread stopped: ${error.message}`, { cause: error });
    for (const batch of this.#inFlight.splice(0)) for (const pending of batch) pending.reject(failure);
    if (this.#queued.length > 0) this.#schedule();
    else this.#becameIdle();
  }

  #becameIdle(): void {
    // An idle writer does not keep the process alive; a write in flight does.
    this.#worker?.unref();
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.();
  }
}
