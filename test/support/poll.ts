// Polling instead of sleeping: tests must tolerate a loaded machine.

/** Calls `get` every 100 ms until `ok` accepts its value (returned); throws naming `what` after `ms`. */
export async function pollUntil<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
