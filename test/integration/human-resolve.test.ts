// `medic resolve <id>` and POST /api/incidents/:id/resolve on a real medic (Temporal dev server,
// HTTP server, worker): the incident ends as resolved by the token's operator (here an admin: who
// else may is test/security/operator-api.test.ts), with the reason; bad input and late or unknown
// resolves get clear answers and change nothing.
import { describe, expect, it } from 'vitest';
import { cliAgainst } from '../support/cli.js';
import { demoPlaybook, perFile, remediateStep } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS } from '../support/medic.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const m = perFile(() =>
  startMedic({
    playbooks: (url) => [
      demoPlaybook(url, { name: 'by-hand', match: { alertname: 'ByHand' }, holdAfterEscalation: '10m', steps: [remediateStep(url, { dryRun: true })] }),
    ],
  }),
);
const medic = cliAgainst(m);

describe('resolving an incident by hand', () => {
  it('medic resolve ends an escalated incident as resolved by the operator; a second resolve and unknown ids are refused', async () => {
    const id = await incidentIdFrom(await m.postAlerts('firing', { alertname: 'ByHand', service: 'by-hand-cli' }));
    await m.waitFor(id, (s) => s.status === 'escalated' && s.escalationSent);

    const r = await medic(TOKENS.admin, 'resolve', id, '--reason', 'rolled back by hand');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out.trim()).toBe(`${id} resolved by root`);
    const final = await m.env.client.workflow.getHandle(id).result();
    expect(final).toMatchObject({ status: 'resolved', outcome: 'resolved by root: rolled back by hand', resolvedBy: { by: 'root', reason: 'rolled back by hand' } });
    const t = (await m.timeline(id)).map((e) => `${groupOf(e.kind)}: ${e.message}`);
    expect(t).toContain('control: root resolved the incident by hand: rolled back by hand');
    expect(t.at(-1)).toBe('resolution: resolved: resolved by root: rolled back by hand');
    const shown = await medic(TOKENS.alice, 'status', id);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('  escalation ladder:\n    1. hand over to on-call — done\n');
    expect(shown.out).toContain('  resolved by hand: root — rolled back by hand\n');

    const again = await medic(TOKENS.alice, 'resolve', id);
    expect(again.code).not.toBe(0);
    expect(again.err).toBe(`medic: 404: no running incident ${id}\n`); // it has ended
    const unknown = await medic(TOKENS.alice, 'resolve', 'incident:nope:0123456789ab');
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('404');
  });

  it('the operator API validates the body and needs a token', async () => {
    const id = await incidentIdFrom(await m.postAlerts('firing', { alertname: 'ByHand', service: 'by-hand-api' }));
    await m.waitFor(id, (s) => s.status === 'escalated' && s.escalationSent);
    expect((await m.api('POST', `/api/incidents/${encodeURIComponent(id)}/resolve`, TOKENS.alice, { reason: 42 })).status).toBe(400);
    expect((await m.api('POST', `/api/incidents/${encodeURIComponent(id)}/resolve`, TOKENS.alice, { why: 'x' })).status).toBe(400);
    const noToken = await fetch(`${m.url}/api/incidents/${encodeURIComponent(id)}/resolve`, { method: 'POST' });
    expect(noToken.status).toBe(401);
    expect((await m.status(id)).phase).not.toBe('done');

    const ok = await m.api('POST', `/api/incidents/${encodeURIComponent(id)}/resolve`, TOKENS.admin, {});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ by: 'root' });
    const final = await m.env.client.workflow.getHandle(id).result();
    expect(final).toMatchObject({ status: 'resolved', outcome: 'resolved by root', resolvedBy: { by: 'root' } });
  });
});
