// The incident-store backends every store test runs against: a SQLite file in a temp dir and a
// real PostgreSQL 15 started by dev/postgres.ts (one server per backend instance, its own
// database cluster, stopped by close()). A missing PostgreSQL fails the test.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../dev/postgres.js';
import type { StoreConfig } from '../../src/store/config.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import type { IncidentStatus, PublishInput } from '../../workflows/contracts.js';

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** Where a fresh, empty store lives (the same place for every open() until close()). */
  start(): Promise<{ config: StoreConfig; open: () => Promise<IncidentStore>; close: () => Promise<void> }>;
}

export const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  async start() {
    const config = { path: join(mkdtempSync(join(tmpdir(), 'medic-store-')), 'store.db') };
    return { config, open: () => openIncidentStore(config), close: async () => undefined };
  },
};

export const postgresBackend: StoreBackend = {
  name: 'postgres',
  async start() {
    const server = await startPostgres();
    const config = { url: server.url };
    return { config, open: () => openIncidentStore(config), close: () => server.stop() };
  },
};

export const STORE_BACKENDS: StoreBackend[] = [sqliteBackend, postgresBackend];

/** What the store sink writes for one publish: the incident (one alert, not acted, open, its
 * workflowId taken from the incidentId, unless `incident` says otherwise), no message refs, and
 * the entries. */
export function publishInput(
  incident: Partial<IncidentStatus> & Pick<IncidentStatus, 'incidentId' | 'startedAt'>,
  entries: PublishInput['entries'],
): PublishInput {
  const defaults = { workflowId: incident.incidentId.slice(0, -9), severity: 'critical', alertsReceived: 1, acted: false, escalationSent: false, status: 'open' };
  return { incident: { ...defaults, ...incident } as unknown as IncidentStatus, refs: {}, entries };
}
