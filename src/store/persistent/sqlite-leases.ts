/**
 * Group leases of the embedded store: a row per group in the store file, taken with one conditional
 * upsert (free, expired, or already ours), so two processes cannot both hold it. A table rather than
 * events: a lease is renewed every few seconds, and the log would keep every renewal forever. The
 * table is made on first use, so files that never run a group keep their schema as it was.
 */
import type Database from 'better-sqlite3';
import type { GroupLeases } from './leases.js';

export function sqliteGroupLeases(db: Database.Database): GroupLeases {
  let statements: { take: Database.Statement; drop: Database.Statement } | undefined;
  const prepared = () => {
    if (!statements) {
      db.exec(`CREATE TABLE IF NOT EXISTS persistent_subscription_leases (
        group_key  TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      )`);
      statements = {
        take: db.prepare(`INSERT INTO persistent_subscription_leases (group_key, owner, expires_at) VALUES (?, ?, ?)
          ON CONFLICT (group_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
          WHERE persistent_subscription_leases.owner = excluded.owner OR persistent_subscription_leases.expires_at < ?`),
        drop: db.prepare('DELETE FROM persistent_subscription_leases WHERE group_key = ? AND owner = ?'),
      };
    }
    return statements;
  };
  return {
    acquire: (group, owner, ttlMs) => {
      const now = Date.now();
      return prepared().take.run(group, owner, now + ttlMs, now).changes === 1;
    },
    release: (group, owner) => {
      prepared().drop.run(group, owner);
    },
  };
}
