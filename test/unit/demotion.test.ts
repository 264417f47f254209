import { describe, expect, it } from 'vitest';
import { demotionOf, recordRun, stepKey, type StepRun } from '../../src/policy/demotion.js';

const runs = (pattern: string): StepRun[] => [...pattern].map((c, i) => ({ ok: c === 'S', at: i, incidentId: `i${i}` }));
const policy = { failures: 3, of: 5 };

describe('demotionOf', () => {
  it('is not demoted with no history or too few failures', () => {
    expect(demotionOf([], policy)).toEqual({ demoted: false, failures: 0, runs: 0 });
    expect(demotionOf(runs('FFSSS'), policy).demoted).toBe(false);
  });

  it('demotes at k failures of the last n runs, saying so', () => {
    expect(demotionOf(runs('FSFSF'), policy)).toEqual({ demoted: true, failures: 3, runs: 5, reason: 'failed 3 of its last 5 runs' });
  });

  it('counts fewer than n runs when that is all there is', () => {
    expect(demotionOf(runs('FFF'), policy)).toEqual({ demoted: true, failures: 3, runs: 3, reason: 'failed 3 of its last 3 runs' });
  });

  it('looks only at the last n runs', () => {
    expect(demotionOf(runs('FFFSSSSS'), policy).demoted).toBe(false);
    expect(demotionOf(runs('SSSSSFFF'), policy).reason).toBe('failed 3 of its last 5 runs');
  });

  it('a 1 of 1 policy demotes after a single failure and recovers after a success', () => {
    expect(demotionOf(runs('F'), { failures: 1, of: 1 }).demoted).toBe(true);
    expect(demotionOf(runs('FS'), { failures: 1, of: 1 }).demoted).toBe(false);
  });
});

describe('recordRun', () => {
  it('keeps only the last `keep` runs, most recent last', () => {
    let r: StepRun[] = [];
    for (const run of runs('FFSSFS')) r = recordRun(r, run, 4);
    expect(r.map((x) => (x.ok ? 'S' : 'F')).join('')).toBe('SSFS');
  });

  it('keys steps by playbook and index', () => {
    expect(stepKey('restart-api', 0)).toBe('restart-api#0');
  });
});
