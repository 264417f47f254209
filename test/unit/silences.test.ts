// Silences in the decision core (src/silences/core.ts) and their matchers: silenced while acting
// and verifying, extended while it goes on, expired when the incident resolves or escalates; a
// Snooze by an allowed approver only; hostile grouping labels never make a wide silence.
import { describe, expect, it } from 'vitest';
import type { IncidentCommand } from '../../src/incident/types.js';
import { silenceMatchers } from '../../src/playbooks/silence-matchers.js';
import { ALLOW, coreDriver } from '../support/incident-core.js';
import { testPlaybook } from '../support/fixtures.js';

const URL = 'http://127.0.0.1:9';
const pb = (over: { deadline?: string } = {}) =>
  testPlaybook({
    name: 'silencing',
    match: { alertname: 'DemoServiceDown' },
    holdAfterEscalation: '1m',
    silence: { duration: '10m', snooze: ['30m'] },
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${URL}/restart` }, approvers: ['U0LEAD'], verification: { http: { url: `${URL}/healthz` }, window: '20m', interval: '1m', deadline: over.deadline ?? '30m' } }],
  });
const of = <K extends IncidentCommand['kind']>(cs: IncidentCommand[], kind: K) => cs.filter((c): c is Extract<IncidentCommand, { kind: K }> => c.kind === kind);
const ok = { ok: true as const, summary: 'POST → 200', durationMs: 5, data: {} };

describe('silences in the decision core', () => {
  it('silences before acting, extends while verifying, expires when healed', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'start', carried: false });
    const act = d.send({ kind: 'admitted', result: ALLOW });
    const [silence] = of(act, 'silence');
    expect(silence).toMatchObject({ purpose: 'medic', createdBy: 'medic', endsAt: d.now + 600_000 });
    expect(silence!.matchers).toEqual([
      { name: 'alertname', value: 'DemoServiceDown', isRegex: false, isEqual: true },
      { name: 'service', value: 'api', isRegex: false, isEqual: true },
    ]);
    expect(silence!.comment).toContain('inc-1');
    d.send({ kind: 'silenced', purpose: 'medic', ok: true, id: 'sil-1', endsAt: silence!.endsAt });
    expect(d.notes().at(-1)).toMatch(/^silenced the incident's alerts in Alertmanager until .* \(silence sil-1\)/);
    d.send({ kind: 'actionResult', outcome: ok });
    const healthy = { http: { ok: true, evidence: '200' } };
    // Rounds every minute: the silence is extended once half of it passed, not on every round.
    let extensions = 0;
    d.send({ kind: 'verified', round: healthy });
    for (let i = 0; i < 20 && d.state.phase !== 'done'; i++) {
      d.fire();
      extensions += of(d.all.slice(-3), 'silence').length;
      d.send({ kind: 'verified', round: healthy });
    }
    expect(of(d.all, 'silence').length).toBeGreaterThanOrEqual(3);
    expect(of(d.all, 'silence').length).toBeLessThanOrEqual(5);
    expect(extensions).toBeGreaterThan(0);
    expect(d.state).toMatchObject({ status: 'resolved', phase: 'done' });
    expect(of(d.all, 'unsilence')).toEqual([{ kind: 'unsilence', purpose: 'medic' }]);
    // Alertmanager's answer after the end is still recorded.
    d.send({ kind: 'unsilenced', purpose: 'medic', ok: true, expired: ['sil-1'] });
    expect(d.notes().at(-1)).toBe('expired silence sil-1: the alerts notify again');
  });

  it('expires the silence when escalating, so the person paged sees the alert; a failed silence is noted and the incident goes on', () => {
    const d = coreDriver(pb({ deadline: '2m' }));
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: ALLOW });
    d.send({ kind: 'silenced', purpose: 'medic', ok: false, error: 'Alertmanager POST /api/v2/silences: 503' });
    expect(d.notes().at(-1)).toBe('silencing the alerts in Alertmanager failed (medic goes on): Alertmanager POST /api/v2/silences: 503');
    d.send({ kind: 'actionResult', outcome: ok });
    d.send({ kind: 'verified', round: { http: { ok: false, evidence: '503' } } });
    for (let i = 0; i < 5 && d.state.phase !== 'escalate'; i++) {
      d.fire();
      d.send({ kind: 'verified', round: { http: { ok: false, evidence: '503' } } });
    }
    expect(d.state.phase).toBe('escalate');
    const kinds = d.kinds(d.all);
    expect(kinds.indexOf('unsilence')).toBeGreaterThan(kinds.lastIndexOf('verify'));
    expect(of(d.all, 'unsilence')).toHaveLength(1);
  });

  it('Snooze: only someone who may approve a step, only an offered duration; recorded with who did it', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'start', carried: false });
    expect(d.send({ kind: 'snoozed', snooze: { user: 'U0MALLORY', duration: '30m' } })).toEqual([
      { kind: 'refuse', reason: 'U0MALLORY may not snooze this incident; allowed: whoever may approve its steps (U0LEAD)' },
    ]);
    expect(d.send({ kind: 'snoozed', snooze: { user: 'U0LEAD', duration: '5d' } })[0]).toMatchObject({ kind: 'refuse', reason: 'snooze for 5d is not offered; choices: 30m' });
    const cs = d.send({ kind: 'snoozed', snooze: { user: 'U0LEAD', duration: '30m' } });
    expect(of(cs, 'silence')[0]).toMatchObject({ purpose: 'snooze', createdBy: 'U0LEAD', endsAt: d.now + 1_800_000 });
    d.send({ kind: 'silenced', purpose: 'snooze', ok: true, id: 'sil-9', endsAt: d.now + 1_800_000 });
    const e = d.state.timeline.at(-1)!;
    expect(e.kind).toBe('control.snoozed');
    expect(e.kind === 'control.snoozed' && e.data.silence).toMatchObject({ by: 'U0LEAD', id: 'sil-9' });
  });

  it('hostile grouping labels: exact matchers only, refused when unsafe, never all-empty', () => {
    const r = silenceMatchers({ alertname: 'A', service: '.*"}, x=~".+' });
    expect(r).toEqual({ ok: true, matchers: [expect.objectContaining({ name: 'alertname' }), { name: 'service', value: '.*"}, x=~".+', isRegex: false, isEqual: true }] });
    expect(silenceMatchers({ alertname: 'A', service: 'a\nb' })).toEqual({ ok: false, reason: 'silence refused: matcher service.value: must not contain control characters' });
    expect(silenceMatchers({ 'bad-name': 'x' })).toEqual({ ok: false, reason: 'silence refused: matcher bad-name.name: must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)' });
    expect(silenceMatchers({ service: '', pod: '' })).toEqual({ ok: false, reason: 'silence refused: matchers: at least one matcher must have a non-empty value' });
    expect(silenceMatchers({ alertname: 'A', service: 'x'.repeat(2000) })).toMatchObject({ ok: false, reason: expect.stringContaining('at most 1024') });
  });

  it('a refused matcher set is noted once and nothing is sent to Alertmanager', () => {
    const d = coreDriver(pb(), { labels: { service: 'a\u2028b' } });
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: ALLOW });
    d.send({ kind: 'actionResult', outcome: ok });
    expect(of(d.all, 'silence')).toEqual([]);
    expect(d.notes().filter((m) => m.startsWith('not silencing'))).toEqual(['not silencing the alerts: silence refused: matcher service.value: must not contain control characters']);
  });
});
