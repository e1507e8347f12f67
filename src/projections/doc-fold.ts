/**
 * Pure folds over keyed documents: the shape of most read models (one document per workflow, per
 * definition step, per agent). A fold reads the documents an event concerns through a view and puts
 * new versions; it never mutates a document it was given. The same fold runs against the SQLite
 * storage (doc-storage.ts) and against a plain Map (`foldDocs`), which is how tests state what a
 * read model must equal.
 */
import type { EventStore, RecordedEvent } from '../store/port.js';

export interface DocView<Doc> {
  get(key: string): Doc | undefined;
  put(key: string, doc: Doc): void;
  remove(key: string): void;
}

export interface DocFold<Input, Doc> {
  /** Turn a recorded event into the fold's input; `undefined` if the fold ignores it. Throw for a poison event. */
  decode(event: RecordedEvent): Input | undefined;
  /**
   * Load what decoding `event` needs that is not in the event (a start's definition, stored once
   * per hash), before the synchronous decode; undefined when nothing is needed.
   */
  readonly prepare?: (store: EventStore, event: RecordedEvent) => Promise<void> | undefined;
  /** Fold one input into the documents. Deterministic: no clock, no randomness, no I/O. */
  apply(view: DocView<Doc>, input: Input): void;
}

/** A view that keeps the writes of one event apart until it is known to fold without error. */
export class StagedView<Doc> implements DocView<Doc> {
  private readonly staged = new Map<string, Doc | null>();

  constructor(private readonly read: (key: string) => Doc | undefined) {}

  get(key: string): Doc | undefined {
    const staged = this.staged.get(key);
    if (staged !== undefined) return staged ?? undefined;
    return this.read(key);
  }

  put(key: string, doc: Doc): void {
    this.staged.set(key, doc);
  }

  remove(key: string): void {
    this.staged.set(key, null);
  }

  /** The writes, `null` for a removal. */
  writes(): ReadonlyMap<string, Doc | null> {
    return this.staged;
  }
}

/**
 * The reference fold: every event from zero into a Map, skipping the events the storage would
 * record as poison.
 */
export function foldDocs<Input, Doc>(fold: DocFold<Input, Doc>, events: Iterable<RecordedEvent>): Map<string, Doc> {
  const docs = new Map<string, Doc>();
  for (const event of events) {
    const view = new StagedView<Doc>((key) => docs.get(key));
    try {
      const input = fold.decode(event);
      if (input === undefined) continue;
      fold.apply(view, input);
    } catch {
      continue;
    }
    for (const [key, doc] of view.writes()) {
      if (doc === null) docs.delete(key);
      else docs.set(key, doc);
    }
  }
  return docs;
}
