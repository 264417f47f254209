// Durations are written as "30s", "5m", "1h", "250ms", "2d" in YAML and stay strings in
// workflow input (plain JSON); this pure helper turns them into milliseconds anywhere,
// including inside the workflow sandbox.
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export function toMs(duration: string): number {
  const match = DURATION_PATTERN.exec(duration.trim());
  if (!match) throw new Error(`invalid duration "${duration}" (use e.g. 500ms, 30s, 5m, 1h, 2d)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
