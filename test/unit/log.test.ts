import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('writes JSON lines and redacts tokens, authorization headers and secrets wherever they appear', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    log.info(
      {
        workflowId: 'incident:demo:abc',
        token: 'tok-1',
        operator: { user: 'alice', token: 'tok-2' },
        req: { headers: { authorization: 'Bearer tok-3' } },
        request: { headers: { authorization: 'Bearer tok-4' } },
        config: { secrets: { DEMO_TOKEN: 'tok-5' } },
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry.msg).toBe('hello');
    expect(entry.workflowId).toBe('incident:demo:abc');
    for (const secret of ['tok-1', 'tok-2', 'tok-3', 'tok-4', 'tok-5']) expect(lines[0]).not.toContain(secret);
    expect(lines[0]).toContain('[redacted]');
  });
});
