// /medic run <runbook> [key=value…] through real Bolt: complete parameters start the runbook's
// durable workflow at once (its own thread, same gates); missing or invalid ones open a modal
// that the runbook's zod schema validates, with field errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunbookSchema, type Runbook } from '../../src/runbooks/schema.js';
import { startSlackMedic, U, waitUntil, type SlackMedic } from '../support/slack.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';

let m: SlackMedic;
let target: DemoService;
let runbook: Runbook;
beforeAll(async () => {
  target = await startDemoService();
  runbook = RunbookSchema.parse({
    name: 'restart-service',
    description: 'Restart a service and verify it is healthy',
    runners: [U.alice, '@oncall'],
    params: {
      service: { description: 'service name', pattern: '[a-z][a-z0-9-]*' },
      replicas: { type: 'number', required: false },
      mode: { enum: ['soft', 'hard'], default: 'soft' },
    },
    target: '{{labels.service}}',
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${target.url}/remediate`, body: '{"service":"{{labels.service}}","mode":"{{labels.mode}}"}', expectStatus: [200] },
        verification: { http: { url: `${target.url}/healthz` }, window: '1s', interval: '250ms', deadline: '10s' },
      },
    ],
  });
  m = await startSlackMedic({ runbooks: [runbook] });
});
afterAll(async () => {
  await m?.stop();
  await target?.close();
});

async function command(user: string, text: string) {
  const before = m.slack.ephemerals.length;
  const views = m.slack.views.size;
  const res = await m.interact.slashCommand(user, '/medic', text);
  expect(res.status).toBe(200);
  return waitUntil(`answer to /medic ${text}`, () =>
    m.slack.ephemerals.slice(before).find((e) => e.user === user)?.text ?? (m.slack.views.size > views ? 'modal' : undefined),
  );
}

describe('/medic run', () => {
  it('with every parameter valid: starts the runbook as an incident workflow with its own thread, requested by the user', async () => {
    const reply = await command(U.alice, 'run restart-service service=checkout mode=hard');
    expect(reply).toContain('Runbook *restart-service* started');
    const id = /`(incident:[^`]+)`/.exec(reply)![1]!;
    const s = await waitUntil('resolved', async () => ((await m.status(id)).status === 'resolved' ? m.status(id) : undefined), 30_000);
    expect(s.target).toBe('checkout');
    await waitUntil('own thread', () => (m.threadOf(id).length > 0 ? true : undefined));
    expect(JSON.stringify(m.rootOf(id)!.blocks)).toContain('restart-service');
    const timeline = await m.timeline(id);
    expect(timeline[0]!.message).toContain('playbook restart-service');
  });

  it('missing or invalid parameters open a modal; the schema shows field errors; a valid submission starts the run', async () => {
    expect(await command(U.bob, 'run restart-service replicas=two')).toBe('modal');
    const view = m.interact.openViewFor(U.bob)!;
    expect(JSON.stringify(view.view.blocks)).toContain('"initial_value":"two"');
    const bad = await m.interact.submitView(U.bob, view.id, { service: 'Not Valid!', replicas: 'two', mode: 'gentle' });
    expect(bad.body).toMatchObject({
      response_action: 'errors',
      errors: { service: 'must match [a-z][a-z0-9-]*', replicas: 'must be a number', mode: 'must be one of soft, hard' },
    });
    const missing = await m.interact.submitView(U.bob, view.id, { replicas: '2' });
    expect(missing.body).toMatchObject({ response_action: 'errors', errors: { service: 'required' } });
    const before = m.slack.ephemerals.length;
    const ok = await m.interact.submitView(U.bob, view.id, { service: 'payments', replicas: '2' });
    expect(ok).toMatchObject({ status: 200, body: '' });
    const told = await waitUntil('started', () => m.slack.ephemerals.slice(before).find((e) => e.user === U.bob && e.text.includes('started')));
    const id = /`(incident:[^`]+)`/.exec(told.text)![1]!;
    expect((await m.status(id)).target).toBe('payments');
  });

  it('an unknown runbook or parameter is answered, not run', async () => {
    expect(await command(U.alice, 'run nope')).toContain('No runbook `nope`. Runbooks: `restart-service`');
    expect(await command(U.alice, 'run restart-service service=x colour=red')).toBe('modal');
  });
});
