// SqlDb over better-sqlite3 (synchronous): statements are cached, transactions are BEGIN
// IMMEDIATE and queued per connection, because an awaited step inside one would otherwise let a
// second transaction start on the same connection.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { positional, type SqlDb, type SqlTx } from './sql.js';

export function sqliteDb(db: Database): SqlDb {
  const cache = new Map<string, Statement<unknown[]>>();
  const prepare = (sql: string): Statement<unknown[]> => {
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare<unknown[]>(sql)));
    return s;
  };
  const tx: SqlTx = {
    async run(sql, params = []) {
      const p = positional(sql, params);
      return prepare(p.sql).run(...p.params).changes;
    },
    async all<T>(sql: string, params: readonly unknown[] = []) {
      const p = positional(sql, params);
      return prepare(p.sql).all(...p.params) as T[];
    },
    async exec(sql) {
      db.exec(sql);
    },
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dialect: 'sqlite',
    ...tx,
    transaction<T>(fn: (t: SqlTx) => Promise<T>): Promise<T> {
      const next = queue.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(tx);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      });
      queue = next.catch(() => undefined);
      return next;
    },
    async close() {
      await queue;
      db.close();
    },
  };
}

/** Opens (creating) a SQLite file in WAL mode; worker and server on one host may share it. */
export function openSqlite(path: string): SqlDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return sqliteDb(db);
}
