// Output that goes into the incident timeline (and from there Slack, the audit log, history):
// secrets masked first, then capped, so a secret is never half-shown at a cut.

const PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/\b(AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b/g, '[REDACTED AWS KEY ID]'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, '[REDACTED SLACK TOKEN]'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}/g, '[REDACTED GITHUB TOKEN]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[REDACTED JWT]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  // key=value / key: value where the key names a secret (password, token, secret, api key, …)
  [
    /\b([A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"',;]+)/gi,
    '$1$2[REDACTED]',
  ],
  // 40-character AWS secret access keys (base64 alphabet with at least one / or +)
  [/(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=]))(?=[^\s]*[/+])[A-Za-z0-9/+=]{40}/g, '[REDACTED]'],
];

export function redact(text: string): string {
  return PATTERNS.reduce((t, [re, to]) => t.replace(re, to), text);
}

/** Redacted, then at most `maxBytes` of UTF-8: the head and the tail (errors are often last). */
export function capOutput(text: string, maxBytes = 2048): string {
  const clean = redact(text);
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= maxBytes) return clean;
  const half = Math.floor((maxBytes - 40) / 2);
  const head = bytes.subarray(0, half).toString('utf8').replace(/\uFFFD$/, '');
  const tail = bytes.subarray(bytes.length - half).toString('utf8').replace(/^\uFFFD/, '');
  return `${head}\n…[${bytes.length - 2 * half} bytes truncated]…\n${tail}`;
}
