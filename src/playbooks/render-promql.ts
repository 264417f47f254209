// PromQL templates: a placeholder may only sit inside a quoted string ("…" or '…', e.g. a label
// matcher's value). Its value is escaped for that string — and, when the string is the operand of
// a regex matcher (=~, !~), regex metacharacters are escaped first, so a value matches only itself.
// After rendering, the query is tokenised again and must have the template's structure: the same
// tokens, with each string holding exactly the intended text. A value can therefore never close
// the string or the selector (`x"} or vector(1)` stays part of one label value).
import { checkedString } from './checked-string.js';
import { placeholdersOf, substitute, type Placeholder, type RenderViolation, type TemplateContext } from './template.js';

export interface PromqlToken {
  kind: 'string' | 'word' | 'op' | 'other';
  text: string;
  start: number;
  end: number;
  /** Strings: the quote character. */
  quote?: '"' | "'" | '`';
}

const OPS = ['==', '!=', '>=', '<=', '=~', '!~'];

/** A small PromQL lexer: enough to compare structure (strings, words, operators, punctuation). */
export function tokenizePromql(q: string): PromqlToken[] | { error: string } {
  const out: PromqlToken[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < q.length && q[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      while (i < q.length && q[i] !== c) {
        if (c !== '`' && q[i] === '\\') i++;
        else if (c !== '`' && q[i] === '\n') return { error: `unterminated string at ${start}` };
        i++;
      }
      if (i >= q.length) return { error: `unterminated string at ${start}` };
      i++;
      out.push({ kind: 'string', text: q.slice(start, i), start, end: i, quote: c });
    } else if (/[A-Za-z0-9_:.]/.test(c)) {
      const start = i;
      while (i < q.length && /[A-Za-z0-9_:.]/.test(q[i]!)) i++;
      out.push({ kind: 'word', text: q.slice(start, i), start, end: i });
    } else {
      const two = q.slice(i, i + 2);
      const op = OPS.includes(two) ? two : c;
      out.push({ kind: /[=!<>+\-*/%^]/.test(op) ? 'op' : 'other', text: op, start: i, end: i + op.length });
      i += op.length;
    }
  }
  return out;
}

const UNESCAPE: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** The text a PromQL string literal stands for (Go-style escapes, as Prometheus reads them). */
export function unquotePromql(literal: string): string {
  const q = literal[0];
  const body = literal.slice(1, -1);
  if (q === '`') return body;
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/gs, (_m, e: string) => {
    if (/^[xuU]/.test(e)) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    return UNESCAPE[e] ?? e;
  });
}

/** RE2 metacharacters, escaped so a value matches itself literally in =~ / !~. */
export const escapeRegex = (v: string): string => v.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

/** Escapes a value for the inside of a PromQL string quoted with `quote`. Control characters and
 * line breaks become \u escapes; the result never contains the quote or a raw backslash. */
export function escapePromqlString(v: string, quote: '"' | "'" = '"'): string {
  let out = '';
  for (const ch of v) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd'; // a lone surrogate: not text
    else out += ch;
  }
  return out;
}

/** The string token a placeholder sits in, or why it may not be there. */
function stringAround(tokens: PromqlToken[], p: Placeholder): { token: PromqlToken; regex: boolean } | { error: string } {
  const idx = tokens.findIndex((t) => t.start < p.start && p.end < t.end);
  const token = tokens[idx];
  if (!token || token.kind !== 'string') return { error: `{{${p.path}}} must sit inside a quoted string, e.g. job="{{${p.path}}}"` };
  if (token.quote === '`') return { error: `{{${p.path}}} may not sit inside a \`raw string\` (it cannot be escaped); use "…"` };
  const before = tokens[idx - 1];
  return { token, regex: before?.kind === 'op' && (before.text === '=~' || before.text === '!~') };
}

/** Why a PromQL template is not acceptable in a playbook, or undefined. */
export function promqlTemplateProblem(template: string): string | undefined {
  const tokens = tokenizePromql(template);
  if ('error' in tokens) return `is not a PromQL expression: ${tokens.error}`;
  for (const p of placeholdersOf(template)) {
    if (p.path.startsWith('secret.')) return 'may not contain {{secret.…}}';
    const around = stringAround(tokens, p);
    if ('error' in around) return around.error;
  }
  return undefined;
}

/** A playbook's PromQL template, checked where the playbook is loaded (probes, evidence queries). */
export const PromqlTemplateSchema = checkedString(promqlTemplateProblem);

export type PromqlViolation = RenderViolation;

/** Renders a PromQL template with every value escaped for its string, then re-checks structure. */
export function renderPromql(template: string, ctx: TemplateContext): { query: string } | { violation: PromqlViolation } {
  const problem = promqlTemplateProblem(template);
  if (problem) return { violation: { value: template, rule: problem } };
  const tokens = tokenizePromql(template) as PromqlToken[];
  const query = substitute(template, ctx, (value, p) => {
    const around = stringAround(tokens, p) as { token: PromqlToken; regex: boolean };
    return escapePromqlString(around.regex ? escapeRegex(value) : value, around.token.quote as '"' | "'");
  });
  // The same tokens as the template; each string holds what the template meant it to.
  const after = tokenizePromql(query);
  const broken = (rule: string): { violation: PromqlViolation } => ({ violation: { value: query, rule } });
  if ('error' in after || after.length !== tokens.length) return broken('changes the structure of the PromQL expression');
  for (const [i, t] of tokens.entries()) {
    const r = after[i]!;
    if (r.kind !== t.kind) return broken('changes the structure of the PromQL expression');
    if (t.kind !== 'string') {
      if (r.text !== t.text) return broken('changes the structure of the PromQL expression');
      continue;
    }
    if (unquotePromql(r.text) !== intendedText(t, tokens, ctx)) return broken('does not keep each value inside its quoted string');
  }
  return { query };
}

const LONE_SURROGATE = /\p{Cs}/gu;

/** What a template string token should read as once rendered: its literal parts unquoted, each
 * value inserted raw (regex-escaped in a regex matcher; a lone surrogate reads as U+FFFD). */
function intendedText(t: PromqlToken, tokens: PromqlToken[], ctx: TemplateContext): string {
  const inner = t.text.slice(1, -1);
  const q = t.quote as '"' | "'";
  let out = '';
  let at = 0;
  for (const p of placeholdersOf(inner)) {
    out += unquotePromql(q + inner.slice(at, p.start) + q);
    const around = stringAround(tokens, { ...p, start: p.start + t.start + 1, end: p.end + t.start + 1 });
    const v = substitute(`{{${p.path}}}`, ctx, (x) => x);
    out += ('error' in around || !around.regex ? v : escapeRegex(v)).replace(LONE_SURROGATE, '\ufffd');
    at = p.end;
  }
  return out + unquotePromql(q + inner.slice(at) + q);
}
