// The playbook side of the `flag` action: the step schema (errors at the line, secrets by name
// only) and the rendered activity input / description the workflow builds from it.
import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { Step } from '../../src/playbooks/schema.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { describeAction, flagActionInput } from '../../workflows/actions.js';

const playbook = (params: string): string => `name: kill-switch
match:
  alertname: FeatureErrors
steps:
  - name: off
    action: flag
    params:
${params}`;
const problems = (text: string, env: Record<string, string> = {}): string[] =>
  parsePlaybook(text, 'pb.yaml', env).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
const VALID = `      provider: unleash
      url: \${MEDIC_PB_UNLEASH_URL:-https://unleash.example.com}
      environment: '{{labels.env}}'
      feature: checkout-express
      enabled: false
      tokenSecret: UNLEASH_ADMIN_TOKEN
`;
const ctx: TemplateContext = {
  incident: { id: 'incident:kill-switch:ab12:cd34', workflowId: 'incident:kill-switch:ab12' },
  labels: { env: 'production' },
  annotations: {},
  target: 'checkout',
};

describe('flag steps in playbooks', () => {
  it('load with the default project; the URL comes from the environment at load time', () => {
    const r = parsePlaybook(playbook(VALID), 'pb.yaml', { MEDIC_PB_UNLEASH_URL: 'http://127.0.0.1:4242' });
    expect(r.problems).toEqual([]);
    expect(r.playbook?.steps[0]).toMatchObject({
      action: 'flag',
      params: { provider: 'unleash', url: 'http://127.0.0.1:4242', project: 'default', environment: '{{labels.env}}', enabled: false },
    });
  });

  it('errors point at the line: unknown provider, enabled not a boolean, a token instead of a secret name, unknown key', () => {
    const bad = VALID.replace('provider: unleash', 'provider: launchdarkly')
      .replace('enabled: false', "enabled: 'off'")
      .replace('tokenSecret: UNLEASH_ADMIN_TOKEN', "tokenSecret: '*:*.abc123'")
      .concat('      token: abc\n');
    expect(problems(playbook(bad))).toEqual([
      '8:7: steps.0.params.provider: Invalid input: expected "unleash"',
      "12:7: steps.0.params.enabled: Invalid input: expected boolean, received string",
      '13:7: steps.0.params.tokenSecret: must be a secret name (letters, digits, _)',
      '14:7: steps.0.params: Unrecognized key: "token"',
    ]);
    expect(problems(playbook(VALID.replace('feature: checkout-express', 'feature: checkout express')))).toEqual([
      '11:7: steps.0.params.feature: must be letters, digits, _ . ~ - (or a {{template}})',
    ]);
  });

  it('the workflow renders templates, keeps the token a secret name, and describes the change', () => {
    const step = parsePlaybook(playbook(VALID), 'pb.yaml', {}).playbook!.steps[0] as Extract<Step, { action: 'flag' }>;
    const input = flagActionInput(step, ctx, { idempotencyKey: 'k', dryRun: true });
    expect(input).toEqual({
      provider: 'unleash',
      url: 'https://unleash.example.com',
      project: 'default',
      environment: 'production',
      feature: 'checkout-express',
      enabled: false,
      tokenSecret: 'UNLEASH_ADMIN_TOKEN',
      idempotencyKey: 'k',
      dryRun: true,
      timeoutMs: 30_000,
    });
    expect(describeAction(step, ctx)).toBe('Unleash flag checkout-express → off in production (project default)');
  });
});
