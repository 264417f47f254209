// Generates playbooks/playbook.schema.json from the zod PlaybookSchema, so editors (VS Code's
// YAML extension via the `# yaml-language-server: $schema=./playbook.schema.json` modeline)
// autocomplete and check playbooks against the same schema medic validates them with.
//
//   npx tsx scripts/gen-playbook-schema.ts           write the file
//   npx tsx scripts/gen-playbook-schema.ts --check   exit 1 if the committed file is stale
import { readFile, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PlaybookSchema } from '../src/playbooks/schema.js';
import { runIfEntryPoint } from './lib/run-main.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA_PATH = resolve(ROOT, 'playbooks', 'playbook.schema.json');

const SCHEMA_ID = 'https://raw.githubusercontent.com/medic/medic/main/playbooks/playbook.schema.json';

type Json = Record<string, unknown>;

/** Playbook text goes through ${VAR} / ${VAR:-default} interpolation before it is parsed, so
 * the raw text an editor sees may hold a reference where a URL or a duration is expected. */
const ENV_REFERENCE: Json = {
  type: 'string',
  pattern: '\\$\\{[A-Z_][A-Z0-9_]*(:-[^}]*)?\\}',
  description: 'Replaced from the environment when medic loads the playbook',
};

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isConstrainedString = (v: unknown): boolean =>
  isObject(v) && v.type === 'string' && (typeof v.pattern === 'string' || typeof v.format === 'string');

/** Lets every pattern- or format-checked string also hold an environment reference. */
function allowEnvReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowEnvReferences);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'anyOf' && Array.isArray(value) && value.some(isConstrainedString)) {
      out.anyOf = [...value.map((v) => (isConstrainedString(v) ? v : allowEnvReferences(v))), ENV_REFERENCE];
    } else if ((key === 'properties' || key === 'definitions') && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]));
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = wrap(value);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = allowEnvReferences(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function wrap(node: unknown): unknown {
  if (!isConstrainedString(node)) return allowEnvReferences(node);
  // Annotations stay on the outer schema, where editors show them for hover and completion.
  const { description, default: dflt, title, ...check } = node as Json;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [check, ENV_REFERENCE],
  };
}

/** The schema as committed: deterministic JSON text with a trailing newline. */
export function renderSchema(): string {
  const generated = z.toJSONSchema(PlaybookSchema, {
    io: 'input', // defaults are optional in the files people write
    target: 'draft-07', // the draft VS Code's YAML extension supports best
    unrepresentable: 'throw',
    reused: 'inline',
    override: ({ jsonSchema }) => {
      // z.number().int() adds ±Number.MAX_SAFE_INTEGER bounds: noise in an editor's hover.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    },
  }) as Json;
  const { $schema, ...body } = generated;
  const schema = {
    $schema,
    $id: SCHEMA_ID,
    title: 'medic playbook',
    description:
      'A medic playbook: which alerts it handles, the remediation steps to try in order (with ' +
      'approval, verification and timeouts), policy limits, and where to escalate. Generated from ' +
      'src/playbooks/schema.ts by `npm run schema`; do not edit by hand.',
    ...(allowEnvReferences(body) as Json),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export interface SchemaCheck {
  upToDate: boolean;
  message: string;
}

/** Compares the committed file with a fresh rendering. */
export async function checkSchema(path: string = SCHEMA_PATH): Promise<SchemaCheck> {
  const shown = relative(process.cwd(), path) || path;
  let committed: string;
  try {
    committed = await readFile(path, 'utf8');
  } catch (err) {
    return { upToDate: false, message: `${shown} cannot be read (${(err as Error).message}); run \`npm run schema\`` };
  }
  if (committed === renderSchema()) return { upToDate: true, message: `${shown} is up to date` };
  return {
    upToDate: false,
    message: `${shown} is out of date with src/playbooks/schema.ts; run \`npm run schema\` and commit the result`,
  };
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: gen-playbook-schema [--check]`);
    return 2;
  }
  if (argv.includes('--check')) {
    const result = await checkSchema();
    (result.upToDate ? console.log : console.error)(result.message);
    return result.upToDate ? 0 : 1;
  }
  await writeFile(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${relative(process.cwd(), SCHEMA_PATH) || SCHEMA_PATH}`);
  return 0;
}

runIfEntryPoint(import.meta.url, main);
