// The worker's playbook registry and the content hash incidents name playbooks by: the pure
// SHA-256 (the workflow sandbox has no node:crypto) agrees with node:crypto, the canonical JSON
// ignores key order, and a lookup answers only with a body the worker loaded.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, playbookHash, sha256Hex } from '../../src/playbooks/hash.js';
import { playbookRegistry } from '../../src/playbooks/registry.js';
import { PlaybookSchema, type Playbook } from '../../src/playbooks/schema.js';
import { incidentIdSuffix } from '../../workflows/playbook-source.js';

const pb = (name: string, url = 'http://svc/remediate'): Playbook =>
  PlaybookSchema.parse({ name, match: { alertname: 'X' }, steps: [{ name: 'restart', action: 'http', params: { url } }] });

describe('sha256Hex / canonicalJson', () => {
  it('matches node:crypto on any text (multi-byte, block boundaries)', () => {
    for (const s of ['', 'abc', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'héllo ✓ 𝄞']) expect(sha256Hex(s)).toBe(createHash('sha256').update(s).digest('hex'));
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => sha256Hex(s) === createHash('sha256').update(s).digest('hex')));
  });

  it('canonical JSON sorts keys at every level and drops undefined like JSON does', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: undefined, b: 'x' } })).toBe('{"a":{"b":"x","d":[1,null]},"b":1}');
    const p = pb('a');
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(p).reverse()))) as Playbook;
    expect(playbookHash(reordered)).toBe(playbookHash(p)); // what arrives through the data converter hashes the same
  });

  it('incident id suffix: 16 hex of the whole run id, so UUIDv7 runs of the same minute differ', () => {
    const a = '019ae9b4-1c3e-7a11-8d2f-0123456789ab';
    const b = '019ae9b4-1c3e-7a11-8d2f-0123456789ac'; // same timestamp prefix
    expect(incidentIdSuffix(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(incidentIdSuffix(a)).not.toBe(incidentIdSuffix(b));
    expect(incidentIdSuffix(a)).toBe(sha256Hex(a).slice(0, 16));
  });
});

describe('playbookRegistry', () => {
  const a = pb('alpha');
  const b = pb('beta');
  const registry = playbookRegistry(() => [a, b]);

  it('the loaded version is returned as loaded (the worker\'s own object)', () => {
    const r = registry.lookup({ name: 'alpha', hash: playbookHash(a) });
    expect(r).toEqual({ kind: 'loaded', playbook: a, hash: playbookHash(a) });
    expect(r.kind === 'loaded' && r.playbook).toBe(a);
  });

  it('another hash of a known name: not loaded, naming both hashes; the worker\'s own version comes back for escalation', () => {
    const forged = pb('alpha', 'http://attacker/steal');
    const r = registry.lookup({ name: 'alpha', hash: playbookHash(forged) });
    expect(r.kind).toBe('not-loaded');
    if (r.kind !== 'not-loaded') return;
    expect(r.reason).toBe(`playbook alpha hash ${playbookHash(forged).slice(0, 12)}… is not loaded by this worker (loaded: ${playbookHash(a).slice(0, 12)}…)`);
    expect(r.playbook).toBe(a);
    expect(r.loaded).toEqual([playbookHash(a)]);
  });

  it('an unknown name: not loaded, a stand-in with no steps (nothing can run), the loaded names listed', () => {
    const r = registry.lookup({ name: 'gamma', hash: 'a'.repeat(64) });
    expect(r.kind).toBe('not-loaded');
    if (r.kind !== 'not-loaded') return;
    expect(r.reason).toBe(`playbook gamma hash aaaaaaaaaaaa… is not loaded by this worker (no playbook of that name; loaded: alpha, beta)`);
    expect(r.playbook.steps).toEqual([]);
    expect(r.playbook.escalation).toEqual([{ kind: 'record', to: 'on-call' }]);
  });

  it('a hostile reference (bad hash, odd name, not an object) is refused without echoing it raw', () => {
    for (const ref of [{ name: 'alpha', hash: 'xyz' }, { name: 'alpha' }, 'alpha', null, { name: 'a'.repeat(500), hash: 'a'.repeat(64) }]) {
      const r = registry.lookup(ref);
      expect(r.kind, JSON.stringify(ref)).toBe('not-loaded');
      if (r.kind === 'not-loaded') expect(r.playbook.steps).toEqual([]);
    }
    const odd = registry.lookup({ name: '<!channel> $(curl evil)', hash: 'b'.repeat(64) });
    expect(odd.kind === 'not-loaded' && odd.reason).toMatch(/^playbook \(invalid name\) hash bbbbbbbbbbbb… is not loaded/);
  });

  it('reads its source at every lookup (tests and the demo add playbooks after the worker starts)', () => {
    const list: Playbook[] = [];
    const live = playbookRegistry(() => list);
    expect(live.lookup({ name: 'alpha', hash: playbookHash(a) }).kind).toBe('not-loaded');
    list.push(a);
    expect(live.lookup({ name: 'alpha', hash: playbookHash(a) }).kind).toBe('loaded');
  });
});
