// Slack's answer to a call it refuses: { ok: false, error: code, …extra } (429 for ratelimited).
export type Args = Record<string, unknown>;
export class SlackError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}
