// Which playbook handles an alert, the incident identity it gets, and the target it names.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/intake/schemas.js';
import { findPlaybook, groupingLabels, incidentWorkflowId, matches, targetOf } from '../../src/playbooks/match.js';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';

function playbook(name: string, over: Partial<PlaybookInput> = {}): Playbook {
  return PlaybookSchema.parse({
    name,
    match: { alertname: 'WebDown' },
    steps: [{ name: 'restart', action: 'http', params: { url: 'http://127.0.0.1:9/restart' } }],
    ...over,
  } satisfies PlaybookInput);
}

function alert(labels: Record<string, string>, over: Partial<Alert> = {}): Alert {
  return {
    status: 'firing',
    alertname: labels.alertname ?? 'WebDown',
    severity: labels.severity ?? 'critical',
    labels: { alertname: 'WebDown', ...labels },
    annotations: {},
    startsAt: '2024-01-15T10:00:00Z',
    fingerprint: 'fp',
    source: 'alertmanager',
    receivedAt: 0,
    ...over,
  };
}

describe('matches', () => {
  it('on one alertname or a list of them', () => {
    expect(matches(playbook('one'), alert({ alertname: 'WebDown' }))).toBe(true);
    expect(matches(playbook('one'), alert({ alertname: 'WebSlow' }))).toBe(false);
    const list = playbook('list', { match: { alertname: ['WebDown', 'WebSlow'] } });
    expect(matches(list, alert({ alertname: 'WebSlow' }))).toBe(true);
    expect(matches(list, alert({ alertname: 'DiskFull' }))).toBe(false);
  });

  it('on severity, as one value or a list', () => {
    const one = playbook('sev', { match: { alertname: 'WebDown', severity: 'critical' } });
    expect(matches(one, alert({ severity: 'critical' }))).toBe(true);
    expect(matches(one, alert({ severity: 'warning' }))).toBe(false);
    const many = playbook('sevs', { match: { alertname: 'WebDown', severity: ['warning', 'critical'] } });
    expect(matches(many, alert({ severity: 'warning' }))).toBe(true);
    expect(matches(many, alert({ severity: 'info' }))).toBe(false);
  });

  it('on labels, which must all be present and equal', () => {
    const pb = playbook('labels', { match: { labels: { env: 'prod', team: 'web' } } });
    expect(matches(pb, alert({ env: 'prod', team: 'web', extra: 'x' }))).toBe(true);
    expect(matches(pb, alert({ env: 'prod', team: 'db' }))).toBe(false);
    expect(matches(pb, alert({ env: 'prod' }))).toBe(false);
    // Without an alertname in the match, any alert name passes.
    expect(matches(pb, alert({ alertname: 'Anything', env: 'prod', team: 'web' }))).toBe(true);
  });

  it('on ~regex label values, anchored to the whole value', () => {
    const pb = playbook('regex', { match: { alertname: 'WebDown', labels: { env: '~prod|staging', pod: '~web-[0-9]+' } } });
    expect(matches(pb, alert({ env: 'staging', pod: 'web-12' }))).toBe(true);
    expect(matches(pb, alert({ env: 'production', pod: 'web-12' }))).toBe(false);
    expect(matches(pb, alert({ env: 'prod', pod: 'web-12-canary' }))).toBe(false);
    expect(matches(pb, alert({ env: 'prod' }))).toBe(false);
  });
});

describe('findPlaybook', () => {
  const specific = playbook('web-prod', { match: { alertname: 'WebDown', labels: { env: 'prod' } } });
  const general = playbook('web-any');
  const other = playbook('disk', { match: { alertname: 'DiskFull' } });

  it('returns the first matching playbook in order', () => {
    expect(findPlaybook([specific, general, other], alert({ env: 'prod' }))?.name).toBe('web-prod');
    expect(findPlaybook([general, specific, other], alert({ env: 'prod' }))?.name).toBe('web-any');
    expect(findPlaybook([specific, general, other], alert({ env: 'dev' }))?.name).toBe('web-any');
    expect(findPlaybook([specific, general, other], alert({ alertname: 'DiskFull' }))?.name).toBe('disk');
  });

  it('returns undefined when nothing matches', () => {
    expect(findPlaybook([specific, other], alert({ env: 'dev' }))).toBeUndefined();
    expect(findPlaybook([], alert({}))).toBeUndefined();
  });
});

describe('incidentWorkflowId', () => {
  const pb = playbook('web-down', { groupBy: ['alertname', 'service'] });

  it('has the form incident:<playbook>:<12 hex>', () => {
    expect(incidentWorkflowId(pb, alert({ service: 'checkout' }))).toMatch(/^incident:web-down:[0-9a-f]{12}$/);
  });

  it('is stable for the same grouping labels, whatever the other labels and their order', () => {
    const a = alert({ service: 'checkout', pod: 'web-1', instance: '10.0.0.1:80' });
    const b = alert({ instance: '10.0.0.9:80', pod: 'web-7', service: 'checkout' }, { severity: 'warning', fingerprint: 'other' });
    const c: Alert = { ...a, labels: Object.fromEntries(Object.entries(a.labels).reverse()) };
    expect(incidentWorkflowId(pb, b)).toBe(incidentWorkflowId(pb, a));
    expect(incidentWorkflowId(pb, c)).toBe(incidentWorkflowId(pb, a));
  });

  it('does not depend on the order of groupBy', () => {
    const reversed = playbook('web-down', { groupBy: ['service', 'alertname'] });
    const a = alert({ service: 'checkout' });
    expect(incidentWorkflowId(reversed, a)).toBe(incidentWorkflowId(pb, a));
  });

  it('differs between groups, and between playbooks', () => {
    const checkout = incidentWorkflowId(pb, alert({ service: 'checkout' }));
    expect(incidentWorkflowId(pb, alert({ service: 'search' }))).not.toBe(checkout);
    expect(incidentWorkflowId(pb, alert({ service: 'checkout', alertname: 'WebSlow' }))).not.toBe(checkout);
    expect(incidentWorkflowId(playbook('web-other'), alert({ service: 'checkout' }))).toMatch(/^incident:web-other:/);
  });

  it('groups by the labels the playbook names', () => {
    const perPod = playbook('per-pod', { groupBy: ['service', 'pod'] });
    expect(groupingLabels(perPod, alert({ service: 's', pod: 'p1', zone: 'z' }))).toEqual({ service: 's', pod: 'p1' });
    expect(incidentWorkflowId(perPod, alert({ service: 's', pod: 'p1' }))).not.toBe(
      incidentWorkflowId(perPod, alert({ service: 's', pod: 'p2' })),
    );
  });
});

describe('targetOf', () => {
  it('renders the target template from labels', () => {
    const pb = playbook('tpl', { target: '{{labels.namespace}}/{{labels.deployment}}' });
    expect(targetOf(pb, alert({ namespace: 'shop', deployment: 'checkout' }))).toBe('shop/checkout');
  });

  it('can use annotations', () => {
    const pb = playbook('ann', { target: 'host:{{annotations.host}}' });
    expect(targetOf(pb, alert({}, { annotations: { host: 'db-1' } }))).toBe('host:db-1');
  });

  it('defaults to the grouping label values joined by /', () => {
    const pb = playbook('dflt', { groupBy: ['alertname', 'service'] });
    expect(targetOf(pb, alert({ service: 'checkout' }))).toBe('WebDown/checkout');
  });

  it('skips missing grouping labels, and falls back to the playbook name when none is set', () => {
    const pb = playbook('dflt2', { groupBy: ['service', 'pod'] });
    expect(targetOf(pb, alert({ pod: 'p1' }))).toBe('p1');
    expect(targetOf(pb, alert({}))).toBe('dflt2');
  });
});
