// SqlDb over a pg connection pool. BIGINT (epoch milliseconds, counts) comes back as a number:
// every value the store keeps is far below 2^53.
import pg from 'pg';
import type { SqlDb, SqlTx } from './sql.js';

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function over(q: pg.Pool | pg.PoolClient): SqlTx {
  return {
    async run(sql, params = []) {
      return (await q.query(sql, [...params])).rowCount ?? 0;
    },
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await q.query(sql, [...params])).rows as T[];
    },
    async exec(sql) {
      await q.query(sql);
    },
  };
}

export interface PostgresOptions {
  /** Connections in the pool (the worker's publishes and the server's scrapes share it). */
  max?: number;
  /** Called when an idle connection fails (e.g. the server restarted); the pool replaces it. */
  onError?: (err: Error) => void;
}

export function openPostgres(url: string, opts: PostgresOptions = {}): SqlDb {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 5, types, connectionTimeoutMillis: 10_000, application_name: 'medic' });
  // Without a listener an idle client's error would crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  return {
    dialect: 'postgres',
    ...over(pool),
    async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(over(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
