// The incident store's place in medic's config (src/config.ts): a SQLite file (`path`) or a
// PostgreSQL server (`url`); `kind` may be left out and follows from which one is given.
import { z } from 'zod';

export const StoreSchema = z
  .strictObject({
    kind: z.enum(['sqlite', 'postgres']).optional().describe('sqlite (store.path) or postgres (store.url); default: postgres when url is set, else sqlite'),
    path: z.string().min(1).optional().describe('SQLite file, e.g. /var/lib/medic/store.db'),
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL, e.g. postgres://medic:…@db:5432/medic')
      .optional()
      .describe('PostgreSQL connection URL (postgres://user:password@host:5432/db; ?sslmode=require for TLS)'),
  })
  .superRefine((s, ctx) => {
    const kind = storeKindOf(s);
    if (s.path !== undefined && s.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either path (SQLite) or url (PostgreSQL), not both' });
    else if (kind === 'postgres' && s.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for kind postgres (MEDIC_STORE_URL)' });
    else if (kind === 'sqlite' && s.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'required for kind sqlite (MEDIC_STORE_PATH)' });
  });
export type StoreConfig = z.infer<typeof StoreSchema>;

export function storeKindOf(s: { kind?: 'sqlite' | 'postgres' | undefined; url?: string | undefined }): 'sqlite' | 'postgres' {
  return s.kind ?? (s.url !== undefined ? 'postgres' : 'sqlite');
}
