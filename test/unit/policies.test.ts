// The example policies in policies/ (Rego v1) pass their own `opa test` unit tests, and build to
// the Wasm bundle the in-process backend loads.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { opa } from '../support/opa.js';
import { ROOT } from '../support/paths.js';

const POLICIES = join(ROOT, 'policies');

describe('policies/', () => {
  it('opa test policies/ -v: every test passes', async () => {
    const { stdout } = await opa(['test', POLICIES, '-v']); // rejects, with the output, on any failure
    const passed = [...stdout.matchAll(/^data\.\S+: PASS/gm)].length;
    expect(stdout).not.toMatch(/: (FAIL|ERROR)/);
    expect(stdout).toMatch(new RegExp(`^PASS: ${passed}/${passed}$`, 'm'));
    // The four example rules each have tests.
    for (const rule of ['kube_system', 'major_incident|critical_incident', 'failover', 'fleet']) expect(stdout).toMatch(new RegExp(`test_\\w*(${rule})\\w*: PASS`));
    expect(passed).toBeGreaterThanOrEqual(12);
  });

  it('are Rego v1, formatted and type-checked (opa check --strict, opa fmt)', async () => {
    await opa(['check', '--strict', POLICIES]);
    const { stdout } = await opa(['fmt', '--list', POLICIES]);
    expect(stdout.trim()).toBe(''); // nothing to reformat
  });
});
