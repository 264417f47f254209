// Generates the reference docs from the zod schemas, so they cannot drift from what medic accepts:
//   docs/configuration.md  from ConfigSchema (src/config.ts), with the environment variable of each field
//   docs/playbooks.md      from PlaybookSchema (src/playbooks/schema.ts), with the shipped playbooks/*.yaml
//
//   npx tsx scripts/gen-docs.ts           write both files (npm run docs)
//   npx tsx scripts/gen-docs.ts --check   exit 1 if a committed file is stale (the tests run this)
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigSchema, ENV_LISTS, ENV_PATHS } from '../src/config.js';
import { PlaybookSchema } from '../src/playbooks/schema.js';
import { renderReference, type EnvIndex } from './docs/render.js';
import { runIfEntryPoint } from './lib/run-main.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONFIG_DOC = resolve(ROOT, 'docs', 'configuration.md');
export const PLAYBOOK_DOC = resolve(ROOT, 'docs', 'playbooks.md');

const jsonSchemaOf = (schema: z.ZodType): Record<string, unknown> =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;

function configEnvIndex(): EnvIndex {
  const index: EnvIndex = new Map();
  const add = (path: readonly string[], text: string): void => {
    const key = path.join('.');
    index.set(key, [...(index.get(key) ?? []), text]);
  };
  for (const [name, path] of Object.entries(ENV_PATHS)) add(path, `\`${name}\``);
  for (const [name, { path, format }] of Object.entries(ENV_LISTS)) add(path, `\`${name}\` (${format})`);
  return index;
}

export function renderConfigDoc(): string {
  const envRows = [
    ...Object.entries(ENV_PATHS).map(([name, path]) => `| \`${name}\` | [\`${path.join('.')}\`](#${anchorOf(path)}) | |`),
    ...Object.entries(ENV_LISTS).map(([name, { path, format }]) => `| \`${name}\` | [\`${path.join('.')}\`](#${anchorOf(path)}) | ${format} |`),
  ];
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config.ts by `npm run docs` (scripts/gen-docs.ts); do not edit by hand. -->',
    '',
    'medic reads one configuration, validated by the zod schema `ConfigSchema` in `src/config.ts`, at',
    'start: a YAML file named by `MEDIC_CONFIG` (optional) with environment variables on top (they',
    'win). An invalid configuration exits listing every problem as `path: message`. Fields marked',
    '*YAML only* have no environment variable.',
    '',
    '## Environment variables',
    '',
    '| variable | sets | format |',
    '| --- | --- | --- |',
    ...envRows,
    '',
    '## Fields',
    '',
    renderReference(jsonSchemaOf(ConfigSchema), { anchorPrefix: 'config', rootTitle: 'Top level', env: configEnvIndex() }),
  ].join('\n');
}

/** The example playbooks shipped in playbooks/, by file: name and description. */
function shippedPlaybooks(): string {
  const dir = resolve(ROOT, 'playbooks');
  const rows = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const pb = parseYaml(readFileSync(resolve(dir, f), 'utf8')) as { name?: string; description?: string };
      return `| [\`${f}\`](../playbooks/${f}) | \`${pb.name ?? ''}\` | ${(pb.description ?? '').replace(/\|/g, '\\|')} |`;
    });
  return ['## Shipped playbooks', '', 'Examples in `playbooks/` (files load in name order; the first playbook matching an alert handles it).', '', '| file | name | what it does |', '| --- | --- | --- |', ...rows, ''].join('\n');
}

export function renderPlaybookDoc(): string {
  return [
    '# Playbook reference',
    '',
    '<!-- Generated from src/playbooks/schema.ts by `npm run docs` (scripts/gen-docs.ts); do not edit by hand. -->',
    '',
    'A playbook is a YAML file in `playbooks/` (or any path in `playbooks:` / `MEDIC_PLAYBOOKS`),',
    'validated by `PlaybookSchema` in `src/playbooks/schema.ts`; `npx medic validate` reports every',
    'problem with file, line and column, and `playbooks/playbook.schema.json` (same schema) lets',
    'editors autocomplete. `${VAR}` / `${VAR:-default}` are replaced from the environment at load',
    'time — only `MEDIC_PB_*` variables and those listed in `playbookEnv` (`MEDIC_PLAYBOOK_ENV`);',
    'any other name fails validation. Templates `{{incident.id}}`, `{{labels.NAME}}`,',
    '`{{annotations.NAME}}` are rendered per incident for where they land (URL path/query:',
    'percent-encoded, never in scheme://host; PromQL: only inside quoted strings, escaped; body: only',
    'inside JSON strings, JSON-escaped; headers: no line breaks) and re-validated; a value that',
    'cannot be placed fails the step before anything is sent. Header values may use',
    '`{{secret.NAME}}` (written in the playbook itself; never from a label value), resolved only',
    'inside the activity from `MEDIC_SECRET_NAME`, so secrets never enter workflow history.',
    'Durations are a number followed by `ms`, `s`, `m`, `h` or `d`.',
    '',
    shippedPlaybooks(),
    renderReference(jsonSchemaOf(PlaybookSchema), { anchorPrefix: 'playbook', rootTitle: 'Playbook' }),
  ].join('\n');
}

function anchorOf(path: readonly string[]): string {
  return `config-${path.slice(0, -1).join('-') || 'top'}`.toLowerCase();
}

export const DOCS: Array<{ path: string; render: () => string; source: string }> = [
  { path: CONFIG_DOC, render: renderConfigDoc, source: 'src/config.ts' },
  { path: PLAYBOOK_DOC, render: renderPlaybookDoc, source: 'src/playbooks/schema.ts' },
];

export interface DocsCheck {
  upToDate: boolean;
  messages: string[];
}

/** Compares the committed docs (or those in `dir`) with a fresh rendering. */
export async function checkDocs(dir?: string): Promise<DocsCheck> {
  const messages: string[] = [];
  let upToDate = true;
  for (const doc of DOCS) {
    const path = dir ? resolve(dir, basename(doc.path)) : doc.path;
    const shown = relative(ROOT, path);
    const committed = await readFile(path, 'utf8').catch(() => undefined);
    if (committed === doc.render()) {
      messages.push(`${shown} is up to date`);
    } else {
      upToDate = false;
      messages.push(`${shown} is ${committed === undefined ? 'missing' : `out of date with ${doc.source}`}; run \`npm run docs\` and commit the result`);
    }
  }
  return { upToDate, messages };
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: gen-docs [--check]`);
    return 2;
  }
  if (argv.includes('--check')) {
    const { upToDate, messages } = await checkDocs();
    for (const m of messages) (upToDate ? console.log : console.error)(m);
    return upToDate ? 0 : 1;
  }
  for (const doc of DOCS) {
    await mkdir(dirname(doc.path), { recursive: true });
    await writeFile(doc.path, doc.render());
    console.log(`wrote ${relative(ROOT, doc.path)}`);
  }
  return 0;
}

runIfEntryPoint(import.meta.url, main);
