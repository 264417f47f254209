// Optional options passed on as they are: under exactOptionalPropertyTypes an absent option must
// stay absent (never `undefined`), which otherwise takes one `...(o.x ? { x: o.x } : {})` a key.

/** The named properties of `o` that are set (not undefined). */
export function present<T extends object, K extends keyof T>(o: T, keys: readonly K[]): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k] as Exclude<T[K], undefined>;
  return out;
}
