// The small SQL surface the incident store needs, implemented by SQLite (better-sqlite3) and
// PostgreSQL (pg), so the store's queries and migrations are written once. Queries use
// PostgreSQL's numbered placeholders ($1, $2, …); the SQLite side rewrites them.
export type Dialect = 'sqlite' | 'postgres';

export interface SqlTx {
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDb extends SqlTx {
  readonly dialect: Dialect;
  /** Runs fn in one transaction (SQLite: BEGIN IMMEDIATE, one at a time per connection). */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `$1 … $1 … $2` → `? … ? … ?` with the parameters repeated in order (better-sqlite3 takes no numbered ones). */
export function positional(sql: string, params: readonly unknown[]): { sql: string; params: unknown[] } {
  const out: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new Error(`SQL placeholder $${n} has no parameter (${params.length} given)`);
    out.push(params[i]);
    return '?';
  });
  return { sql: text, params: out };
}
