/**
 * Where the sqlite store's writes run. Group commit either way: requests made in one turn of the
 * event loop share one transaction (and one fsync), and each is checked on its own.
 *
 * - On the calling thread, on the store's own connection: always for `:memory:` (a second connection
 *   would see another database) and with `writer=inline`.
 * - With a writer thread (file stores by default), big batches go to a worker thread with its own
 *   connection to the file, so inserting rows and waiting for the fsync do not hold up the engine's
 *   thread (they were about a third of its time in a busy engine, docs/benchmarks.md). A batch of 64
 *   from a busy producer goes as soon as it is full, up to eight batches in flight, so the thread
 *   commits while the engine goes on deciding; batches that arrive while the thread is busy are
 *   committed together, in one transaction and one fsync (sqlite-writer-thread.ts). Small batches
 *   and quick bursts made while the thread is idle are written on the calling thread instead: when
 *   every append waits for its commit, two thread hops cost more than they save. The thread starts on the first batch it is sent, so a
 *   store that never writes much never starts it.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { UnavailableError } from './errors.js';
import type { BatchOutcome } from './sqlite-batch-runner.js';
import type { Durability } from './sqlite-schema.js';
import { packRequests, unpackOutcome, type PackedRequests, type WriteRequest, type WriteResult } from './sqlite-write-requests.js';

export interface CommitStats {
  /** Transactions committed (each one fsync with durable settings). */
  readonly transactions: number;
  /** Write operations run in them. */
  readonly operations: number;
}

export interface StoreWriter {
  write(request: WriteRequest): Promise<WriteResult>;
  readonly stats: CommitStats;
  /** Finish every write already requested, then release the writer. */
  close(): Promise<void>;
}

/** What the writer thread is started with. */
export interface WriterSettings {
  readonly path: string;
  readonly durability: Durability;
  readonly busyTimeoutMs: number;
}

export type ToWriter = { readonly kind: 'write'; readonly requests: PackedRequests } | { readonly kind: 'close' };

export type FromWriter = BatchOutcome;

interface Pending {
  /** Dropped once sent: the thread has its copy, and the events' JSON need not outlive the send. */
  request: WriteRequest | undefined;
  readonly stream: string;
  readonly resolve: (result: WriteResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Writing a batch on the calling thread's connection, and below which size to prefer it. */
export interface RunHere {
  readonly below: number;
  /**
   * Whether a quick burst of writes (a producer that only appends) is written here too, whatever its
   * size; false: only a batch below `below` made while the thread is idle. Default true.
   */
  readonly bursts?: boolean;
  /**
   * With a writer thread, answers `locked` rather than wait for another connection's write lock:
   * the batch then goes to the thread, which waits for it (the caller's event loop does not).
   */
  readonly run: (requests: readonly WriteRequest[]) => BatchOutcome;
}

const MAX_BATCHES_IN_FLIGHT = 8;
const FULL_BATCH = 64;
/**
 * Time between writes (their producer's work) from which a batch is worth sending to the thread.
 * Measured: the saga engine at 500 workflows in flight queues an append every 20-35 µs (it decides
 * in between); a client that only appends (the store benchmark, the embedded EventStoreDB server)
 * every 1-10 µs, and for it two thread hops would only add latency.
 */
export const BUSY_PRODUCER_US_PER_WRITE = 15;

const ENTRY = new URL('./sqlite-writer-entry.cjs', import.meta.url);

export interface GroupCommitOptions {
  /** Runs after every commit, once its callers' promises are settled. */
  readonly afterCommit: () => void;
  /**
   * Every append that inserted events, in commit order, before its caller hears of it: `count`
   * events of `stream`, the last at `lastRevision` and `lastPosition`, the others just before.
   */
  readonly onAppended?: (stream: string, lastRevision: bigint, lastPosition: bigint, count: number) => void;
  /** Writing on the calling thread's connection; without it every batch goes to the thread. */
  readonly runHere?: RunHere;
  /** The writer thread's connection; without it every batch is written on the calling thread. */
  readonly thread?: WriterSettings;
  /** A producer this busy between writes (µs per write, moving average) has its batches sent to the thread. */
  readonly busyProducerMicros?: number;
}

export class GroupCommitWriter implements StoreWriter {
  readonly #settings: WriterSettings | undefined;
  readonly #afterCommit: () => void;
  readonly #onAppended: GroupCommitOptions['onAppended'];
  readonly #runHere: RunHere | undefined;
  readonly #busyMicros: number;
  #worker: Worker | undefined;
  /** Requested, not yet sent. */
  #queued: Pending[] = [];
  /**
   * Batches sent, oldest first, awaiting their outcomes (the thread answers in order). The thread
   * starts the next as soon as it has committed one, and the next grows meanwhile.
   */
  readonly #inFlight: Pending[][] = [];
  #scheduled = false;
  #firstQueuedAt = 0;
  /** Moving average of the producer's time per write (µs), measured over whole turns. */
  #usPerWrite = 0;
  /** Whether the writes queued now came in a quick burst; undefined until their turn has ended. */
  #quickBurst: boolean | undefined;
  #transactions = 0;
  #operations = 0;
  #idle: (() => void) | undefined;

  constructor(options: GroupCommitOptions) {
    if (!options.runHere && !options.thread) throw new Error('A store writer needs a connection to write on');
    this.#settings = options.thread;
    this.#afterCommit = options.afterCommit;
    this.#onAppended = options.onAppended;
    this.#runHere = options.runHere;
    this.#busyMicros = options.busyProducerMicros ?? BUSY_PRODUCER_US_PER_WRITE;
  }

  write(request: WriteRequest): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      if (this.#queued.length === 0) this.#firstQueuedAt = performance.now();
      this.#queued.push({ request, stream: request.stream, resolve, reject });
      // A full batch from a busy producer goes at once: the thread commits it while the engine
      // goes on deciding. Writes made in a quick burst wait for the end of the turn.
      if (this.#settings && this.#queued.length >= FULL_BATCH && this.#inFlight.length < MAX_BATCHES_IN_FLIGHT && this.#busyProducer()) this.#send();
      else this.#schedule();
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
    if (this.#runHere && !this.#settings) {
      this.#runQueuedHere(this.#runHere);
      return;
    }
    if (this.#runHere) {
      // Judged when the turn that queued them ends; it holds while they wait for the thread.
      if (this.#quickBurst === undefined) {
        this.#measureTurn();
        this.#quickBurst = this.#runHere.bursts !== false && !this.#busyProducer();
      }
      const quickBurst = this.#quickBurst;
      // A quick burst (nothing for the thread to overlap with) waits for the batches in flight,
      // then is written here: order is kept, and the thread, idle, holds no lock to contend for.
      if (quickBurst && this.#inFlight.length > 0) return;
      if (this.#inFlight.length === 0 && (quickBurst || this.#queued.length < this.#runHere.below)) {
        // Nothing in flight, and little to write or nothing to do meanwhile: every append waits for
        // its commit, and here it commits without two thread hops.
        this.#runQueuedHere(this.#runHere);
        return;
      }
    }
    const batch = this.#queued;
    this.#queued = [];
    this.#quickBurst = undefined;
    this.#toThread(batch);
  }

  #toThread(batch: Pending[]): void {
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
    const requests: WriteRequest[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as Pending;
      requests[i] = pending.request as WriteRequest;
      pending.request = undefined;
    }
    worker.postMessage({ kind: 'write', requests: packRequests(requests) } satisfies ToWriter);
  }

  /**
   * Is the producer busy enough between writes for the thread to overlap with it? Judged on a moving
   * average over recent turns, so that one slow turn (a GC pause, a cold start) changes nothing.
   */
  #busyProducer(): boolean {
    return this.#usPerWrite >= this.#busyMicros;
  }

  /** At the end of a turn that queued writes: how long did each take its producer? */
  #measureTurn(): void {
    const writes = this.#queued.length;
    if (writes < 8) return;
    const sample = ((performance.now() - this.#firstQueuedAt) * 1000) / writes;
    this.#usPerWrite = this.#usPerWrite * 0.8 + Math.min(sample, 1000) * 0.2;
  }

  #runQueuedHere(runHere: RunHere): void {
    const batch = this.#queued;
    this.#queued = [];
    this.#quickBurst = undefined;
    const outcome = runHere.run(batch.map((pending) => pending.request as WriteRequest));
    // Another process holds the write lock: the thread waits for it, not the caller's event loop.
    if (outcome.kind === 'locked' && this.#settings) this.#toThread(batch);
    else this.#settle(batch, outcome);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(ENTRY, { workerData: this.#settings satisfies WriterSettings | undefined });
    worker.on('message', (message: FromWriter) => this.#onReply(message));
    worker.on('error', (error: Error) => this.#onStopped(worker, error));
    worker.on('exit', (code: number) => this.#onStopped(worker, new Error(`exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #onReply(message: FromWriter): void {
    const batch = this.#inFlight.shift();
    if (batch) this.#settle(batch, message);
  }

  #settle(batch: readonly Pending[], outcome: BatchOutcome): void {
    if (outcome.kind === 'committed') {
      if (!outcome.joined) this.#transactions += 1;
      this.#operations += batch.length;
      const onAppended = this.#onAppended;
      batch.forEach((pending, index) => {
        const result = unpackOutcome(outcome.outcomes, index);
        if (!result.ok) return pending.reject(result.error);
        if (onAppended && result.written > 0 && 'nextExpectedRevision' in result.value) {
          onAppended(pending.stream, result.value.nextExpectedRevision, result.value.position.commit, result.written);
        }
        pending.resolve(result.value);
      });
      this.#afterCommit();
    } else {
      const failure = new UnavailableError(`The event store could not commit: ${outcome.kind === 'failed' ? outcome.message : 'another connection holds the write lock'}`);
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
