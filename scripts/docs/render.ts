// Renders a JSON Schema (as zod's toJSONSchema produces it) into Markdown reference tables: one
// section per object, nested objects and list items in sections of their own, the variants of a
// union each in a section (fields common to every variant listed once, with the union).
type Json = Record<string, unknown>;

/** Field path ("temporal.address") → how to set it from the environment. */
export type EnvIndex = Map<string, string[]>;

export interface RenderOptions {
  anchorPrefix: string;
  rootTitle: string;
  env?: EnvIndex;
}

interface Section {
  anchor: string;
  title: string;
  description?: string;
  rows: string[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Table-cell text: pipes escaped, and `<x>` outside code spans kept from reading as HTML. */
const cell = (text: string): string =>
  text
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;') : part))
    .join('`')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const code = (v: unknown): string => (v === '' ? '`""`' : `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``);
const DURATION = '^(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)$';

function variantsOf(node: Json): Json[] | undefined {
  const list = node.oneOf ?? node.anyOf;
  return Array.isArray(list) ? list.filter(isObject) : undefined;
}
const hasFields = (node: Json): boolean => node.type === 'object' && isObject(node.properties);

/** The property every variant pins to a constant (a discriminated union's tag), if any. */
function discriminatorOf(variants: Json[]): string | undefined {
  const first = variants[0]?.properties;
  if (!isObject(first)) return undefined;
  return Object.keys(first).find((key) =>
    variants.every((v) => isObject(v.properties) && isObject(v.properties[key]) && (v.properties[key] as Json).const !== undefined),
  );
}

export function renderReference(schema: Json, options: RenderOptions): string {
  const sections: Section[] = [];
  const slug = (path: string): string => `${options.anchorPrefix}-${path.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'top'}`;

  /** Adds a section for an object's fields (pre-order, so parents come first) and returns its anchor. */
  function objectSection(node: Json, path: string, title: string, skip: ReadonlySet<string> = new Set()): string {
    let anchor = slug(title === options.rootTitle ? '' : title);
    while (sections.some((s) => s.anchor === anchor)) anchor = `${anchor}-x`;
    const section: Section = { anchor, title, rows: [] };
    if (typeof node.description === 'string') section.description = node.description;
    sections.push(section);
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    for (const [key, child] of Object.entries(isObject(node.properties) ? node.properties : {})) {
      if (skip.has(key) || !isObject(child)) continue;
      const childPath = path ? `${path}.${key}` : key;
      const type = typeOf(child, childPath);
      const dflt = child.default !== undefined && !(isObject(child.default) && Object.keys(child.default).length === 0) ? code(child.default) : '';
      const nested = type.includes('](#') && !type.startsWith('list');
      const env = options.env ? (options.env.get(childPath)?.join(', ') ?? (nested ? 'see its fields' : '*YAML only*')) : undefined;
      // The duration type's own description says nothing the type column does not.
      const description = typeof child.description === 'string' && !(type === 'duration' && child.description.startsWith('A duration:')) ? child.description : '';
      const cols = [`\`${key}\``, type, required.has(key) ? 'yes' : '', dflt, cell(description)];
      if (env !== undefined) cols.push(env);
      section.rows.push(`| ${cols.map((c) => c.replace(/\n/g, ' ')).join(' | ')} |`);
    }
    return section.anchor;
  }

  /** A short type for a table cell; nested objects get sections of their own and a link. */
  function typeOf(node: Json, path: string): string {
    const variants = variantsOf(node);
    if (variants && variants.length > 0) {
      if (variants.every(hasFields)) return unionSections(node, variants, path);
      return [...new Set(variants.map((v) => typeOf(v, path)))].join(' or ');
    }
    if (node.const !== undefined) return code(node.const);
    if (Array.isArray(node.enum)) return node.enum.map(code).join(' \\| ');
    switch (node.type) {
      case 'string':
        if (node.pattern === DURATION) return 'duration';
        if (node.format === 'uri') return 'URL';
        return 'string';
      case 'integer':
      case 'number': {
        const min = typeof node.minimum === 'number' && node.minimum > Number.MIN_SAFE_INTEGER ? node.minimum : undefined;
        const max = typeof node.maximum === 'number' && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
        if (min !== undefined && max !== undefined) return `${node.type} ${min}–${max}`;
        if (min !== undefined) return `${node.type} ≥ ${min}`;
        if (max !== undefined) return `${node.type} ≤ ${max}`;
        return String(node.type);
      }
      case 'boolean':
        return 'boolean';
      case 'array':
        if (isObject(node.items)) {
          const items = node.items;
          if (hasFields(items)) return `list of [objects](#${objectSection(items, `${path}[]`, `${path}[]`)})`;
          return `list of ${typeOf(items, `${path}[]`)}`;
        }
        return 'list';
      case 'object':
        if (hasFields(node)) return `[object](#${objectSection(node, path, path)})`;
        if (isObject(node.additionalProperties)) return `map of ${typeOf(node.additionalProperties, `${path}.*`)}`;
        return 'object';
      default:
        return 'any';
    }
  }

  /** A union of objects: the fields every variant shares once, then each variant's own fields. */
  function unionSections(node: Json, variants: Json[], path: string): string {
    const tag = discriminatorOf(variants);
    const shared = Object.keys(variants[0]!.properties as Json).filter(
      (key) => key !== tag && variants.every((v) => JSON.stringify((v.properties as Json)[key]) === JSON.stringify((variants[0]!.properties as Json)[key])),
    );
    const links: string[] = [];
    let anchor: string | undefined;
    if (shared.length > 0) {
      const common: Json = { ...variants[0], properties: Object.fromEntries(shared.map((k) => [k, (variants[0]!.properties as Json)[k]])) };
      if (typeof node.description === 'string') common.description = node.description;
      else delete common.description;
      anchor = objectSection(common, path, `${path} (every kind)`);
    }
    variants.forEach((variant, i) => {
      const label = tag ? `${tag}: ${String((variant.properties as Json)[tag] && ((variant.properties as Json)[tag] as Json).const)}` : `form ${i + 1}`;
      const a = objectSection(variant, path, `${path} (${label})`, new Set(shared));
      links.push(`[${cell(label)}](#${a})`);
    });
    return `${anchor ? `[object](#${anchor}), ` : ''}one of ${links.join(', ')}`;
  }

  objectSection(schema, '', options.rootTitle);
  const header = options.env ? '| field | type | required | default | description | environment |\n| --- | --- | --- | --- | --- | --- |' : '| field | type | required | default | description |\n| --- | --- | --- | --- | --- |';
  return sections
    .map((s) => [`<a id="${s.anchor}"></a>`, `### ${s.title === options.rootTitle ? s.title : `\`${s.title}\``}`, '', ...(s.description ? [cell(s.description), ''] : []), header, ...s.rows, ''].join('\n'))
    .join('\n');
}
