// How an evidence pack is shown: the Slack message stays within Block Kit's limits for the
// biggest pack medic can hold (checked by the Slack stand-in's own limit rules and by count),
// cutting and attaching the full pack as a file when it must; hostile text is escaped; the
// PagerDuty page carries the pack within Events v2's 512 KB; the postmortem lists every pack.
import { describe, expect, it } from 'vitest';
import { blocksProblem, LIMITS } from '../../dev/slack/blocks.js';
import { EVIDENCE_MAX_BYTES, packBytes } from '../../src/evidence/cap.js';
import { pageEvidence, PD_EVENT_MAX_BYTES } from '../../src/evidence/page.js';
import { EVIDENCE_PARTS, type EvidencePack } from '../../src/evidence/schema.js';
import { evidenceSection } from '../../src/postmortem/evidence.js';
import { evidenceMessage } from '../../src/slack/ui/evidence.js';
import { entry } from '../../workflows/contracts-timeline.js';
import type { TimelineEntry } from '../../workflows/contracts.js';
import { capPack } from '../../src/evidence/cap.js';

const T = Date.parse('2026-03-02T10:00:00Z');
const long = (n: number, c = 'x') => c.repeat(n);
const container = { name: 'app', ready: false, restarts: 9, state: 'waiting', reason: 'CrashLoopBackOff', lastState: { reason: 'OOMKilled', exitCode: 137, finishedAt: new Date(T).toISOString() } };
/** Every part full: as many pods, events, lines, series, responses, changes and missing parts as a pack can carry, each long. */
const biggest: EvidencePack = {
  moment: 'escalation',
  collectedAt: T,
  kubernetes: {
    target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
    owners: ['Pod/web-1', 'ReplicaSet/web-5d', 'Deployment/web'],
    pods: Array.from({ length: 10 }, (_, i) => ({ name: `web-${i}-${long(40)}`, phase: 'Running', node: `node-${i}`, restarts: 9, containers: Array.from({ length: 4 }, () => container) })),
    events: Array.from({ length: 20 }, (_, i) => ({ at: new Date(T - i * 1000).toISOString(), type: 'Warning', reason: 'BackOff', object: `Pod/web-${i}`, message: long(900, 'e'), count: 40 })),
    nodes: Array.from({ length: 5 }, (_, i) => ({ name: `node-${i}`, conditions: [{ type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' }, { type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] })),
  },
  logs: { source: 'victorialogs', query: '{app="web"}', lines: Array.from({ length: 200 }, (_, i) => ({ at: new Date(T - (200 - i) * 1000).toISOString(), line: `${i} <!channel> ${long(400, 'l')}` })) },
  prometheus: { queries: Array.from({ length: 8 }, (_, q) => ({ name: `q${q}`, query: `sum by (pod) (rate(http_requests_total{service="web"}[5m])) ${long(200, ' ')}`, series: Array.from({ length: 20 }, (_, i) => ({ labels: { pod: `web-${i}`, le: long(50) }, value: i })) })) },
  http: { responses: Array.from({ length: 5 }, (_, i) => ({ url: `http://web/${i}/${long(200, 'u')}`, status: 503, ms: 12, ok: false, body: long(300, 'b') })), lastVerification: long(500, 'v') },
  changes: { windowMs: 1_800_000, items: Array.from({ length: 15 }, (_, i) => ({ at: T - i * 60_000, kind: 'image' as const, what: `Deployment shop/web revision ${20 - i}`, detail: long(600, 'd'), service: 'web' })), likelyCause: { index: 0, reason: 'image change on Deployment shop/web 0m before the alert matches service web' } },
  missing: [...EVIDENCE_PARTS, ...EVIDENCE_PARTS, ...EVIDENCE_PARTS].map((part) => ({ part, reason: long(400, 'm') })),
  truncated: ['log lines (oldest)'],
};

describe('Slack: the evidence message within Block Kit limits', () => {
  it('renders the biggest pack within 50 blocks, 3,000 characters a section and 10 context elements, and attaches the whole pack as a file', () => {
    for (const p of [biggest, capPack(biggest, EVIDENCE_MAX_BYTES)]) {
      const m = evidenceMessage(p, 'DemoServiceDown on web');
      expect(blocksProblem(m.blocks, 'message')).toBeUndefined(); // the stand-in's (and Slack's) rules
      expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      for (const b of m.blocks) {
        if (b.type === 'section') expect((b.text as { text: string }).text.length).toBeLessThanOrEqual(LIMITS.sectionText);
        if (b.type === 'context') expect((b.elements as unknown[]).length).toBeLessThanOrEqual(LIMITS.contextElements);
      }
      expect(m.file).toBe(true);
      expect(JSON.stringify(m.blocks)).toContain('the full pack is attached as a file');
    }
  });

  it('keeps the newest log lines, calls out the likely cause, escapes hostile text, and names the missing parts', () => {
    const m = evidenceMessage(biggest, 'DemoServiceDown on web');
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('199 &lt;!channel&gt;'); // newest line kept, `<!channel>` inert
    expect(text).not.toContain('<!channel>');
    expect(text).toContain(':dart: *likely cause*');
    expect(text).toContain('*kubernetes missing*');
    expect(m.text).toBe('Evidence at escalation for DemoServiceDown on web: OOMKilled, CrashLoopBackOff, 90 restart(s)');
  });

  it('a small pack is shown whole, without a file', () => {
    const m = evidenceMessage({ moment: 'open', collectedAt: T, changes: { windowMs: 1_800_000, items: [] }, missing: [{ part: 'logs', reason: 'no answer within the deadline' }] }, 'A on b');
    expect(m.file).toBe(false);
    expect(JSON.stringify(m.blocks)).toContain('nothing seen in the last 30m');
    expect(JSON.stringify(m.blocks)).toContain('*logs missing*: no answer within the deadline');
  });
});

describe('PagerDuty and the postmortem', () => {
  const timeline = (p: EvidencePack): TimelineEntry[] => [{ ...entry.evidence({ message: 'evidence', data: { evidence: p } }), seq: 0, at: T } as TimelineEntry];
  it('the page carries the latest pack and what changed, cut to what the rest of the page leaves of 512 KB', () => {
    const capped = capPack(biggest);
    const d = pageEvidence(timeline(capped), { incident_id: 'i' });
    expect(d).toMatchObject({ evidence_collected: ['escalation'], what_changed: { likely_cause: { kind: 'image', reason: expect.any(String) } }, evidence: capped });
    const crowded = pageEvidence(timeline(capped), { annotations: long(PD_EVENT_MAX_BYTES - 20_000) });
    expect(packBytes(crowded.evidence)).toBeLessThan(12_000);
    expect(packBytes({ annotations: long(PD_EVENT_MAX_BYTES - 20_000), ...crowded })).toBeLessThan(PD_EVENT_MAX_BYTES);
    expect(pageEvidence(timeline(capped), { annotations: long(PD_EVENT_MAX_BYTES) })).toMatchObject({ evidence_left_out: expect.stringMatching(/in the Slack thread and the store/) });
  });

  it('the postmortem lists each pack with its facts, changes (likely cause marked), missing parts and log lines', () => {
    const md = evidenceSection(timeline(capPack(biggest))).join('\n');
    expect(md).toMatch(/^## Evidence\n\n### Evidence at escalation \(10:00:00 UTC\)/);
    expect(md).toContain('- OOMKilled: yes · CrashLoopBackOff: yes');
    expect(md).toContain('**(likely cause)**');
    expect(md).toContain('```');
  });
});
