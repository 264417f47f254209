// Exports of the audit log for compliance: JSONL (one stored entry per line) and CSV. CSV cells
// are data, never formulas: a spreadsheet evaluates a cell that starts with = + - @ (or a tab/CR
// before one), and alert labels are attacker-controlled (`=HYPERLINK("http://evil","x")`). Such
// cells are prefixed with ' and quoted, as the OWASP CSV injection guidance says.
import { canonicalJson, type StoredRecord } from './chain.js';

const COLUMNS = ['id', 'at', 'incidentId', 'seq', 'kind', 'who', 'what', 'why', 'target', 'before', 'after', 'prevHash', 'hash', 'mac'] as const;

export function toJsonl(records: StoredRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
}

/** Cells a spreadsheet would read as a formula (OWASP: = + - @ tab CR at the start). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (FORMULA_START.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(records: StoredRecord[]): string {
  const header = [...COLUMNS, 'data'].join(',');
  const lines = records.map((r) => [...COLUMNS.map((c) => csvField(r[c])), csvField(canonicalJson(r.data))].join(','));
  return [header, ...lines].join('\r\n') + '\r\n';
}
