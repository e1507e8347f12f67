/**
 * SQLite storage for a keyed-document fold: one table of JSON documents, plus extracted columns
 * that queries filter and sort on. Documents are cached between batches (the runner is the only
 * writer while its checkpoint generation holds), and written once per batch however many events
 * touched them.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { EventStore, RecordedEvent } from '../store/port.js';
import { type DocFold, StagedView } from './doc-fold.js';
import type { Projection, StreamFilter } from './projection.js';

export type ColumnValue = string | number | bigint | null;

export interface DocColumn<Doc> {
  readonly type: 'TEXT' | 'INTEGER' | 'REAL';
  readonly of: (key: string, doc: Doc) => ColumnValue;
  readonly indexed?: boolean;
}

export interface DocProjectionSpec<Input, Doc> {
  readonly name: string;
  readonly version: number;
  readonly filter: StreamFilter;
  /** SQL identifier of the documents table. */
  readonly table: string;
  readonly columns?: Readonly<Record<string, DocColumn<Doc>>>;
  readonly fold: DocFold<Input, Doc>;
  /** Documents kept in memory between batches (the cache is dropped whole beyond it). Default 20,000. */
  readonly cacheSize?: number;
}

export function docTableDdl<Doc>(spec: { readonly table: string; readonly columns?: Readonly<Record<string, DocColumn<Doc>>> }): string {
  const columns = Object.entries(spec.columns ?? {});
  const indexes = columns
    .filter(([, column]) => column.indexed)
    .map(([name]) => `CREATE INDEX IF NOT EXISTS ${spec.table}_${name} ON ${spec.table} (${name});`);
  return [
    `CREATE TABLE IF NOT EXISTS ${spec.table} (key TEXT PRIMARY KEY, doc TEXT NOT NULL${columns.map(([name, c]) => `, ${name} ${c.type}`).join('')});`,
    ...indexes,
  ].join('\n');
}

export class DocProjection<Input, Doc> implements Projection {
  readonly name: string;
  readonly version: number;
  readonly filter: StreamFilter;
  private readonly cache = new Map<string, Doc | null>();
  private readonly dirty = new Map<string, Doc | null>();
  private statements: { db: Database; select: Statement; upsert: Statement; remove: Statement } | undefined;
  private readonly columnNames: string[];

  constructor(readonly spec: DocProjectionSpec<Input, Doc>) {
    this.name = spec.name;
    this.version = spec.version;
    this.filter = spec.filter;
    this.columnNames = Object.keys(spec.columns ?? {});
  }

  install(db: Database): void {
    db.exec(docTableDdl(this.spec));
  }

  clear(db: Database): void {
    db.prepare(`DELETE FROM ${this.spec.table}`).run();
    this.discard();
  }

  prepare(store: EventStore, event: RecordedEvent): Promise<void> | undefined {
    return this.spec.fold.prepare?.(store, event);
  }

  apply(db: Database, event: RecordedEvent): void {
    const input = this.spec.fold.decode(event);
    if (input === undefined) return;
    const view = new StagedView<Doc>((key) => this.read(db, key));
    this.spec.fold.apply(view, input);
    for (const [key, doc] of view.writes()) this.dirty.set(key, doc);
  }

  flush(db: Database): void {
    const { upsert, remove } = this.prepared(db);
    const columns = this.spec.columns ?? {};
    for (const [key, doc] of this.dirty) {
      if (doc === null) {
        remove.run(key);
      } else {
        const values = this.columnNames.map((name) => columns[name]!.of(key, doc));
        upsert.run(key, JSON.stringify(doc), ...values);
      }
      this.cache.set(key, doc);
    }
    this.dirty.clear();
    // A crude bound: dropping the whole cache costs one re-read per document, nothing more.
    if (this.cache.size > (this.spec.cacheSize ?? 20_000)) this.cache.clear();
  }

  discard(): void {
    this.cache.clear();
    this.dirty.clear();
  }

  private read(db: Database, key: string): Doc | undefined {
    const pending = this.dirty.get(key);
    if (pending !== undefined) return pending ?? undefined;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const json = this.prepared(db).select.pluck().get(key) as string | undefined;
    const doc = json === undefined ? null : (JSON.parse(json) as Doc);
    this.cache.set(key, doc);
    return doc ?? undefined;
  }

  private prepared(db: Database) {
    if (this.statements?.db !== db) {
      const { table } = this.spec;
      const names = ['key', 'doc', ...this.columnNames];
      this.statements = {
        db,
        select: db.prepare(`SELECT doc FROM ${table} WHERE key = ?`),
        upsert: db.prepare(`INSERT OR REPLACE INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`),
        remove: db.prepare(`DELETE FROM ${table} WHERE key = ?`),
      };
    }
    return this.statements;
  }
}

/** Every stored document of a table, by key (tests compare it with `foldDocs`). */
export function readAllDocs<Doc>(db: Database, table: string): Map<string, Doc> {
  const rows = db.prepare(`SELECT key, doc FROM ${table} ORDER BY key`).all() as { key: string; doc: string }[];
  return new Map(rows.map((row) => [row.key, JSON.parse(row.doc) as Doc]));
}

export function readDoc<Doc>(db: Database, table: string, key: string): Doc | undefined {
  const json = db.prepare(`SELECT doc FROM ${table} WHERE key = ?`).pluck().get(key) as string | undefined;
  return json === undefined ? undefined : (JSON.parse(json) as Doc);
}
