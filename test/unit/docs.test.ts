// The configuration and playbook references are generated from the zod schemas
// (scripts/gen-docs.ts): the committed files must match a fresh rendering, and the rendering
// must cover every field and environment variable.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema, ENV_LISTS, ENV_PATHS } from '../../src/config.js';
import { PlaybookSchema } from '../../src/playbooks/schema.js';
import { CONFIG_DOC, PLAYBOOK_DOC, checkDocs, renderConfigDoc, renderPlaybookDoc } from '../../scripts/gen-docs.js';
import { renderReference } from '../../scripts/docs/render.js';

describe('generated reference docs', () => {
  it('docs/configuration.md and docs/playbooks.md are up to date (run `npm run docs` if not)', async () => {
    const result = await checkDocs();
    expect(result.messages.join('\n'), result.messages.join('\n')).not.toMatch(/out of date|missing/);
    expect(result.upToDate).toBe(true);
    expect(await readFile(CONFIG_DOC, 'utf8')).toBe(renderConfigDoc());
    expect(await readFile(PLAYBOOK_DOC, 'utf8')).toBe(renderPlaybookDoc());
  });

  it('a stale or missing doc is reported with the command that fixes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medic-docs-'));
    try {
      await writeFile(join(dir, 'configuration.md'), renderConfigDoc().replace('MEDIC_TEMPORAL_ADDRESS', 'MEDIC_TEMPORAL_HOST'));
      const result = await checkDocs(dir);
      expect(result.upToDate).toBe(false);
      expect(result.messages).toEqual([
        expect.stringMatching(/configuration\.md is out of date with src\/config\.ts; run `npm run docs`/),
        expect.stringMatching(/playbooks\.md is missing; run `npm run docs`/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the configuration reference lists every top-level field and every environment variable', () => {
    const doc = renderConfigDoc();
    for (const key of Object.keys(ConfigSchema.shape)) expect(doc).toContain(`| \`${key}\` |`);
    for (const name of [...Object.keys(ENV_PATHS), ...Object.keys(ENV_LISTS)]) expect(doc).toContain(`\`${name}\``);
    // one row per nested field, with its variable
    expect(doc).toContain("| `address` | string |  | `localhost:7233` | Temporal frontend host:port | `MEDIC_TEMPORAL_ADDRESS` |");
    expect(doc).toMatch(/\| `otlpEndpoint` \| URL \| yes \|/);
  });

  it('the playbook reference has a section per step action, with the fields all actions share once', () => {
    const doc = renderPlaybookDoc();
    for (const key of Object.keys(PlaybookSchema.shape)) expect(doc).toContain(`| \`${key}\` |`);
    for (const action of ['http', 'ssm-command', 'ssm-automation']) expect(doc).toContain(`### \`steps[] (action: ${action})\``);
    const common = doc.slice(doc.indexOf('### `steps[] (every kind)`'), doc.indexOf('### `steps[] (action: http)`'));
    expect(common).toMatch(/\| `requiresApproval` \| boolean \|/);
    expect(doc.match(/\| `requiresApproval` \|/g)).toHaveLength(1);
  });

  it('renders types, bounds, defaults, required fields and nested sections', () => {
    const schema = z.strictObject({
      port: z.number().int().min(1).max(9).default(3).describe('a | b'),
      wait: z.string().regex(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/).describe('A duration: …'),
      inner: z.strictObject({ url: z.url().describe('where <host> is') }).describe('nested'),
      tags: z.record(z.string(), z.string()).optional(),
    });
    const md = renderReference(z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>, { anchorPrefix: 't', rootTitle: 'Root' });
    for (const row of [
      '| `port` | integer 1–9 |  | `3` | a \\| b |',
      '| `wait` | duration | yes |  |  |',
      '| `inner` | [object](#t-inner) | yes |  | nested |',
      '| `tags` | map of string |  |  |  |',
      '<a id="t-inner"></a>\n### `inner`',
      '| `url` | URL | yes |  | where &lt;host> is |',
    ])
      expect(md).toContain(row);
  });
});
