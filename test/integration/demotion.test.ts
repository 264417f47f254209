// Auto-demotion on a real Temporal dev server: a step that failed k of its last n runs asks for
// approval in the next incident (the timeline says why); an admin re-promotes it (CLI, audited).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { incidentsApi } from '../../src/incidents/api.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { groupOf } from '../../workflows/contracts-timeline.js';
import { runMedicCli, type CliResult } from '../support/cli.js';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';

let m: Medic;
beforeAll(async () => {
  m = await startMedic();
});
afterAll(() => m?.stop());

const restart = () => ({
  name: 'restart',
  action: 'http' as const,
  params: { method: 'POST' as const, url: `${m.demo.url}/remediate` },
  retries: 0,
  verification: { http: { url: `${m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '3s' },
});

function playbook(name: string, overrides: Partial<PlaybookInput>) {
  const alertname = `Demote-${name}`;
  m.playbooks.push(demoPlaybook(m.demo.url, { name, match: { alertname }, holdAfterEscalation: '1s', steps: [restart()], ...overrides }));
  return async (service: string): Promise<string> => {
    const res = await m.postAlerts('firing', { alertname, service, severity: 'critical' });
    expect(res.status).toBe(202);
    return incidentIdFrom(res);
  };
}
const text = async (id: string): Promise<string> => (await m.timeline(id)).map((e) => `${groupOf(e.kind)}: ${e.message}`).join('\n');
const demoted = async (): Promise<{ playbook: string; step: number; reason: string }[]> =>
  (await m.api('GET', '/api/governor', TOKENS.alice)).body.demotedSteps as { playbook: string; step: number; reason: string }[];

const cli = (token: string, ...args: string[]): Promise<CliResult> => runMedicCli(args, { MEDIC_URL: m.url, MEDIC_TOKEN: token });

describe('auto-demotion', () => {
  it('after k failures the step asks for approval, saying why; re-promotion restores automatic runs', async () => {
    const fire = playbook('flaky', { limits: { demoteAfter: { failures: 2, of: 3 } }, demotionApprovers: ['bob'] });
    m.demo.state.fault = 'broken-remediation';
    for (const svc of ['flaky-1', 'flaky-2']) {
      // each on its own target, so the cooldown after a failed remediation does not interfere
      const id = await fire(svc);
      expect((await m.waitFor(id, (s) => s.endedAt !== undefined)).status).toBe('escalated');
      expect(await text(id)).not.toContain('auto-demoted');
    }
    expect(await demoted()).toEqual([expect.objectContaining({ playbook: 'flaky', step: 0, reason: 'failed 2 of its last 2 runs' })]);
    const status = await cli(TOKENS.alice, 'status');
    expect(status.out).toContain('flaky step 1 (restart): failed 2 of its last 2 runs — medic promote flaky 1');

    // The remediation works again, but the step no longer runs unattended.
    m.demo.state.fault = 'outage';
    const third = await fire('flaky-3');
    const waiting = await m.waitFor(third, (s) => s.status === 'awaiting_approval');
    expect(waiting.pendingApproval?.approvers).toEqual(['bob']);
    expect(waiting.demoted).toEqual({ step: 0, reason: 'failed 2 of its last 2 runs' });
    expect(await text(third)).toContain('gate: step 1 (restart) auto-demoted to require approval: failed 2 of its last 2 runs');
    expect(m.demo.state.fault).toBe('outage'); // nothing ran yet
    const ok = await m.api('POST', `/api/incidents/${encodeURIComponent(third)}/approve`, TOKENS.bob, {});
    expect(ok.status).toBe(200);
    expect((await m.waitFor(third, (s) => s.endedAt !== undefined)).outcome).toBe('healed by step 1/1 (restart)');
    // 2 failures of the last 3 runs: still demoted until a person re-promotes it
    expect((await demoted()).map((d) => d.reason)).toEqual(['failed 2 of its last 3 runs']);

    const refused = await cli(TOKENS.alice, 'promote', 'flaky', '1');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('403: alice is not an admin');
    expect((await m.api('POST', '/api/playbooks/flaky/steps/0/promote', TOKENS.bob, {})).status).toBe(403);
    expect((await m.api('POST', '/api/playbooks/flaky/steps/7/promote', TOKENS.admin, {})).status).toBe(404);
    const promoted = await cli(TOKENS.admin, 'promote', 'flaky', '1');
    expect(promoted.err).toBe('');
    expect(promoted.out.trim()).toBe('flaky step 1 (restart) re-promoted by root: it runs without approval again');
    expect(await demoted()).toEqual([]);

    m.demo.state.fault = 'outage';
    const fourth = await fire('flaky-4');
    const final = await m.waitFor(fourth, (s) => s.endedAt !== undefined);
    expect(final.status).toBe('resolved');
    expect(final.pendingApproval).toBeUndefined();
    expect(await text(fourth)).not.toMatch(/auto-demoted|approval/);
  });

  it('a demoted step nobody may approve escalates, and says so', async () => {
    const fire = playbook('lonely', { limits: { demoteAfter: { failures: 1, of: 1 } } });
    m.demo.state.fault = 'broken-remediation';
    const first = await fire('lonely-1');
    await m.waitFor(first, (s) => s.endedAt !== undefined);
    m.demo.state.fault = 'outage';
    const applied = Object.keys(m.demo.state.applied).length;
    const second = await fire('lonely-2');
    const final = await m.waitFor(second, (s) => s.endedAt !== undefined);
    expect(final.status).toBe('escalated');
    expect(await text(second)).toContain(
      'escalating: step 1 (restart) auto-demoted to require approval: failed 1 of its last 1 runs; nobody may approve it (the step lists no approvers and the playbook no demotionApprovers)',
    );
    expect(Object.keys(m.demo.state.applied).length).toBe(applied);
    m.demo.state.fault = 'none';
  });

  it('re-promotion is audited with the person who did it', async () => {
    const db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-demotion-')), 'audit.db'));
    const audit = auditLog(db);
    const api = incidentsApi(m.env.client, m.config.temporal.taskQueue, { audit });
    const r = await api.promote('lonely', 0, 'restart', 'carol');
    expect(r.wasDemoted).toBe(true);
    const [entry] = audit.entries();
    expect(entry).toMatchObject({
      kind: 'promotion',
      who: 'carol',
      what: 'step 1 (restart) of playbook lonely re-promoted: runs automatically again (history reset)',
      why: 'it was auto-demoted: failed 1 of its last 1 runs',
      before: 'demoted: requires approval',
      after: 'automatic',
    });
    expect(audit.verify()).toMatchObject({ ok: true });
    expect((await api.governorState()).demotedSteps.find((d) => d.playbook === 'lonely')).toBeUndefined();
  });
});
