// The demo terminal's follower (dev/demo/follow.ts) on a real dev server and worker: two
// incidents under one workflow id — the second a new run, started by the same alert after the
// first closed — both appear live, each with its header, its timeline and its end line.
import { expect, it } from 'vitest';
import { followWorkflow } from '../../dev/demo/follow.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { useDemoStack } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { pollUntil } from '../support/poll.js';

const dev = useDemoStack('follow');

it('follows two incidents on one workflow id (a re-fire after the first closed) through the demo follower', async () => {
  const playbook = demoPlaybook(dev.demo.url);
  const deps = { client: dev.env.client, taskQueue: dev.taskQueue, playbooks: () => [playbook], log: silentLog };
  const alert = firingAlert();
  const lines: string[] = [];
  const ended: IncidentStatus[] = [];

  dev.demo.state.fault = 'outage';
  const first = await ingestAlerts(deps, [alert]);
  const workflowId = first.incidents[0]!.workflowId;
  const follower = followWorkflow(dev.env.client, workflowId, 'http://ui.test', (l) => lines.push(l), { onEnd: (s) => ended.push(s), pollMs: 100 });
  try {
    await pollUntil(() => ended.length, (n) => n === 1, 'the first incident to end', 60_000);

    dev.demo.state.fault = 'outage';
    const second = await ingestAlerts(deps, [alert]);
    expect(second.incidents[0]!.workflowId).toBe(workflowId); // same id, new run
    await pollUntil(() => ended.length, (n) => n === 2, 'the second incident to end', 60_000);
    // a few more polls: nothing of either incident is printed again
    const printed = lines.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(lines.length).toBe(printed);
  } finally {
    await follower.stop();
  }

  expect(ended.map((s) => s.status)).toEqual(['resolved', 'resolved']);
  const [a, b] = ended.map((s) => s.incidentId);
  expect(a).not.toBe(b);
  const text = lines.join('\n');
  const at = (s: string): number => {
    const i = text.indexOf(s);
    expect(i, `"${s}" printed`).toBeGreaterThanOrEqual(0);
    return i;
  };
  // header, timeline and end line of the first incident, then the same for the second
  const headerA = at(`▶ incident ${a}`);
  const endA = at(`■ ${a}: resolved`);
  const headerB = at(`▶ incident ${b}`);
  const endB = at(`■ ${b}: resolved`);
  expect(headerA).toBeLessThan(endA);
  expect(endA).toBeLessThan(headerB);
  expect(headerB).toBeLessThan(endB);
  for (const [from, to] of [[headerA, endA], [headerB, endB]] as const) {
    const section = text.slice(from, to);
    expect(section).toContain(`Temporal UI: http://ui.test/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    expect(section).toContain('DemoServiceDown firing');
    expect(section).toMatch(/verified: healthy for 2s/);
  }
  expect(text.match(/^▶ incident /gm)).toHaveLength(2);
  expect(text.match(/^■ /gm)).toHaveLength(2);
});
