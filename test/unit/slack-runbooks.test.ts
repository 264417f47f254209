// Runbook parameters: the zod schema built from their spec, key=value parsing, the shipped
// runbooks load, and the run modal is a valid Slack view.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { viewProblem } from '../../dev/slack/blocks.js';
import { loadRunbooks } from '../../src/runbooks/load.js';
import { paramsSchema, parseKeyValues, runbookAlert, runbookPlaybook, RunbookSchema } from '../../src/runbooks/schema.js';
import { checkParams } from '../../src/slack/runbooks.js';
import { runModal } from '../../src/slack/ui/runbook.js';
import { PlaybookSchema } from '../../src/playbooks/schema.js';

const rb = RunbookSchema.parse({
  name: 'scale',
  params: { service: { pattern: '[a-z-]+' }, replicas: { type: 'number' }, force: { type: 'boolean', required: false }, mode: { enum: ['a', 'b'], default: 'a' } },
  steps: [{ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x' } }],
});

describe('runbooks', () => {
  it('validates parameters with the schema built from their spec, applying defaults', () => {
    expect(paramsSchema(rb).parse({ service: 'web', replicas: '3' })).toEqual({ service: 'web', replicas: '3', mode: 'a' });
    expect(checkParams(rb, { service: 'Web!', replicas: 'x', force: 'maybe', mode: 'c' })).toEqual({
      ok: false,
      errors: { service: 'must match [a-z-]+', replicas: 'must be a number', force: 'must be true or false', mode: 'must be one of a, b' },
    });
    expect(checkParams(rb, { replicas: '1' })).toEqual({ ok: false, errors: { service: 'required' } });
    expect(checkParams(rb, { service: 'web', replicas: '1', colour: 'red' })).toMatchObject({ ok: false, errors: { colour: expect.stringContaining('unknown parameter') } });
  });

  it('parses key=value text, quoted values included', () => {
    expect(parseKeyValues('service=web note="two words" stray')).toEqual({ values: { service: 'web', note: 'two words' }, stray: ['stray'] });
  });

  it('becomes a valid playbook and alert; parameters are labels', () => {
    const pb = runbookPlaybook(rb);
    expect(PlaybookSchema.safeParse(pb).success).toBe(true);
    const a = runbookAlert(rb, { service: 'web', replicas: '3' }, 'U0ALICE', 0);
    expect(a.labels).toMatchObject({ alertname: 'Runbook:scale', service: 'web', replicas: '3', requested_by: 'U0ALICE' });
    expect(a.alertname).toBe(pb.match.alertname);
  });

  it('the shipped runbooks load, and their modal is a valid view', async () => {
    const { runbooks, problems } = await loadRunbooks([fileURLToPath(new URL('../../runbooks', import.meta.url))], {});
    expect(problems).toEqual([]);
    expect(runbooks.map((r) => r.name)).toContain('restart-demo');
    expect(viewProblem(runModal(runbooks[0]!, {}, 'C1'))).toBeUndefined();
    expect(viewProblem(runModal(rb, { replicas: 'x' }, 'C1'))).toBeUndefined();
    expect((await loadRunbooks(['/nonexistent'], {})).problems[0]).toContain('/nonexistent');
  });
});
