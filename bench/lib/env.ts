// A bench's numeric settings from the environment: a value that is not a positive number stops
// the bench naming the variable, instead of running with NaN.

/** `process.env[name]` as a positive number, or `fallback` when it is unset. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}
