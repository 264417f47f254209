// Similar past incidents: ranked from the incident store by what an incident has in common with
// earlier ones — the same evidence signature (e.g. OOMKilled on the same Deployment, set by the
// evidence pack), alertname, service and other labels — with what fixed each one and how often
// that fix heals. Pure ranking over candidate rows (store.ts reads them), so precision can be
// measured on a generated history (test/unit/similar.test.ts prints precision@3).

/** What incidents are compared on. */
interface Alike {
  incidentId: string;
  playbook: string;
  alertname: string;
  service: string;
  labels: Record<string, string>;
  signature?: string;
}
export type SimilarQuery = Alike;

export interface Candidate extends Alike {
  openedAt: number;
  outcome: string;
  /** The step that healed it (its last run that succeeded and verified), if medic healed it. */
  fixedBy?: string;
  /** Its Slack thread, when it had one. */
  threadUrl?: string;
}

export interface SimilarIncident {
  incidentId: string;
  openedAt: number;
  playbook: string;
  /** What it shares with this incident. */
  why: string;
  score: number;
  outcome: string;
  /** The step that fixed it, and that step's success rate over its runs in the store. */
  fix?: { step: string; successRate: number; runs: number };
  /** Its postmortem on medic's operator API (also `medic postmortem <id>`). */
  postmortem: string;
  threadUrl?: string;
}

/** Labels that say what kind of alert it is, not which: left out of the label overlap. */
const IGNORED = new Set(['alertname', 'service', 'severity', 'instance', 'pod', 'job']);
/** Below this, an incident shares too little to be called similar. */
export const MIN_SCORE = 3;

const pairs = (l: Record<string, string>): Set<string> => new Set(Object.entries(l).filter(([k]) => !IGNORED.has(k)).map(([k, v]) => `${k}=${v}`));

function scoreOf(q: SimilarQuery, c: Candidate): { score: number; why: string[] } {
  const why: string[] = [];
  let score = 0;
  if (q.signature && c.signature === q.signature) {
    score += 5;
    why.push(`same evidence (${q.signature})`);
  }
  if (c.alertname === q.alertname) {
    score += 2;
    why.push('alertname');
  }
  if (q.service && c.service === q.service) {
    score += 2;
    why.push('service');
  }
  const a = pairs(q.labels);
  const b = pairs(c.labels);
  const shared = [...a].filter((p) => b.has(p));
  const union = new Set([...a, ...b]).size;
  if (shared.length > 0) {
    score += (2 * shared.length) / union;
    why.push(`labels ${shared.slice(0, 3).join(', ')}`);
  }
  if (c.playbook === q.playbook) score += 0.5;
  return { score, why };
}

/** Success rate of each (playbook, step) over its runs: healed / runs. */
export type StepRates = Map<string, { healed: number; runs: number }>;
export const rateKey = (playbook: string, step: string): string => `${playbook}\u0000${step}`;

/** The `k` most similar ended incidents, best first (ties: the most recent). */
export function rankSimilar(q: SimilarQuery, candidates: Candidate[], rates: StepRates, k = 3): SimilarIncident[] {
  return candidates
    .filter((c) => c.incidentId !== q.incidentId)
    .map((c) => ({ c, ...scoreOf(q, c) }))
    .filter((x) => x.score >= MIN_SCORE)
    .sort((x, y) => y.score - x.score || y.c.openedAt - x.c.openedAt)
    .slice(0, k)
    .map(({ c, score, why }) => {
      const r = c.fixedBy ? rates.get(rateKey(c.playbook, c.fixedBy)) : undefined;
      return {
        incidentId: c.incidentId,
        openedAt: c.openedAt,
        playbook: c.playbook,
        why: `same ${why.join(', ')}`.replace('same same', 'same'),
        score: Math.round(score * 100) / 100,
        outcome: c.outcome,
        ...(c.fixedBy && r ? { fix: { step: c.fixedBy, successRate: r.runs > 0 ? r.healed / r.runs : 0, runs: r.runs } } : {}),
        postmortem: `/api/incidents/${encodeURIComponent(c.incidentId)}/postmortem`,
        ...(c.threadUrl ? { threadUrl: c.threadUrl } : {}),
      };
    });
}

/** "Try what worked last time": the best-rated fix among the similar incidents that this
 * playbook also has as a step (by name), with at least half its runs healing. */
export function whatWorked(similar: SimilarIncident[], steps: { name: string }[]): { step: string; index: number; successRate: number } | undefined {
  const fixes = similar.flatMap((x) => (x.fix && x.fix.successRate >= 0.5 ? [x.fix] : [])).sort((a, b) => b.successRate - a.successRate || b.runs - a.runs);
  for (const f of fixes) {
    const index = steps.findIndex((s) => s.name === f.step);
    if (index >= 0) return { step: f.step, index, successRate: f.successRate };
  }
  return undefined;
}
