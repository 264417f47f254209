// dev/postgres.ts against Debian's PostgreSQL 15: a fresh cluster on a free port answers
// through the pg driver with the password it generated (and refuses a wrong one), a given data
// directory is reused with its data, and stop() ends the server.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from '../../dev/postgres.js';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  it('runs a real PostgreSQL 15 on 127.0.0.1 with a generated password, and stops it', async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toMatch(/^postgres:\/\/medic:[^@]+@127\.0\.0\.1:\d+\/medic$/);
      const [row] = await query<{ v: string; db: string }>(server.url, 'SELECT version() AS v, current_database() AS db');
      expect(row!.v).toMatch(/^PostgreSQL 15\./);
      expect(row!.db).toBe('medic');
      await expect(query(server.url.replace(/:[^:@]+@/, ':wrong@'), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
    } finally {
      await server.stop();
    }
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps a given data directory and reuses it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'medic-pg-keep-'));
    chmodSync(parent, 0o755); // as root, postgres runs as the postgres user and must traverse it
    const dataDir = join(parent, 'data');
    const first = await startPostgres({ dataDir });
    try {
      await query(first.url, 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)');
    } finally {
      await first.stop();
    }
    const second = await startPostgres({ dataDir });
    try {
      expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 42 }]);
    } finally {
      await second.stop();
    }
  });

  it('says what is missing when the binaries are not there', async () => {
    const before = process.env.MEDIC_PG_BIN;
    process.env.MEDIC_PG_BIN = '/nonexistent/postgresql/bin';
    try {
      await expect(startPostgres()).rejects.toThrow(/PostgreSQL binaries not found in \/nonexistent\/postgresql\/bin.*provision\.sh/);
    } finally {
      if (before === undefined) delete process.env.MEDIC_PG_BIN;
      else process.env.MEDIC_PG_BIN = before;
    }
  });
});
