// The layer map (docs/architecture.md): no import cycles, run-time imports point down
// (app → workflows → activities → lib → contracts), the product never imports dev/test/bench/
// scripts, and only workflows/ imports workflow internals. The checker runs over the repository and
// over a planted tree that breaks each rule once, so it is shown to fail.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers, cyclesOf, importsOf, MEDIC_LAYERS } from '../../scripts/lib/layers.js';
import { ROOT } from '../support/paths.js';

const planted = mkdtempSync(join(tmpdir(), 'medic-layers-'));
afterAll(() => rmSync(planted, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(planted, 'tree-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const noAllow = { ...MEDIC_LAYERS, allow: [] };

describe('import parsing', () => {
  it('finds static, re-exported, dynamic and type imports, resolved to .ts paths, and tells type-only ones apart', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../lib/b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './ef.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "import 'node:fs';",
      "import { z } from 'zod';",
      "const later = () => import('../late.js');",
      "type T = import('./t.js').T;",
    ].join('\n');
    expect(importsOf('src/x/mod.ts', text)).toEqual([
      { from: 'src/x/mod.ts', to: 'src/x/a.ts', typeOnly: false },
      { from: 'src/x/mod.ts', to: 'src/lib/b.ts', typeOnly: true },
      { from: 'src/x/mod.ts', to: 'src/x/c.ts', typeOnly: true },
      { from: 'src/x/mod.ts', to: 'src/x/ef.ts', typeOnly: false },
      { from: 'src/x/mod.ts', to: 'src/x/g.ts', typeOnly: false },
      { from: 'src/x/mod.ts', to: 'src/x/h.ts', typeOnly: true },
      { from: 'src/x/mod.ts', to: 'src/late.ts', typeOnly: false },
      { from: 'src/x/mod.ts', to: 'src/x/t.ts', typeOnly: true },
    ]);
  });

  it('finds cycles among run-time imports only', () => {
    const edge = (from: string, to: string, typeOnly = false) => ({ from, to, typeOnly });
    expect(cyclesOf([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([['a', 'b', 'c']]);
    expect(cyclesOf([edge('a', 'b'), edge('b', 'a', true)])).toEqual([]);
    expect(cyclesOf([edge('a', 'a')])).toEqual([['a']]);
  });
});

describe('layer map', () => {
  it('holds for the repository: no cycles, no upward or dev imports, workflow internals sealed', () => {
    expect(checkLayers(ROOT, MEDIC_LAYERS)).toEqual([]);
  });

  it('a planted tree that breaks each rule fails, naming the files', () => {
    const root = tree({
      // cycle: a ↔ b at run time (the type-only pair c ↔ d is no cycle)
      'src/policy/a.ts': "import { b } from './b.js';\nexport const a = 1 + b;\n",
      'src/policy/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'src/policy/c.ts': "import type { D } from './d.js';\nexport type C = D;\n",
      'src/policy/d.ts': "import type { C } from './c.js';\nexport type D = C | 1;\n",
      // direction: lib → app at run time (a type import is allowed)
      'src/store/store.ts': "import { app } from '../server/app.js';\nimport type { App } from '../server/app.js';\nexport const s: App = app;\n",
      'src/server/app.ts': 'export const app = 1;\nexport type App = number;\n',
      // direction: activities → workflows
      'activities/slack.ts': "import { run } from '../workflows/incident.js';\nexport const x = run;\n",
      'workflows/incident.ts': "import type { Input } from './contracts.js';\nexport const run = (i: Input) => i;\n",
      'workflows/contracts.ts': 'export type Input = string;\n',
      // tooling: product imports a stand-in, even as a type
      'activities/pagerduty.ts': "import type { StandIn } from '../dev/pagerduty/stand-in.js';\nexport type P = StandIn;\n",
      'dev/pagerduty/stand-in.ts': "import { app } from '../../src/server/app.js';\nexport type StandIn = typeof app;\n",
      // sealed: app code reaches a workflow internal (contracts are fine)
      'src/cli/main.ts': "import { run } from '../../workflows/incident.js';\nimport type { Input } from '../../workflows/contracts.js';\nexport const go = (i: Input) => run(i);\n",
    });
    const problems = checkLayers(root, noAllow);
    expect(problems).toEqual(
      expect.arrayContaining([
        { rule: 'cycle', message: 'import cycle: src/policy/a.ts -> src/policy/b.ts' },
        { rule: 'direction', message: 'src/store/store.ts -> src/server/app.ts: lib (below) imports app (above)' },
        { rule: 'direction', message: 'activities/slack.ts -> workflows/incident.ts: activities (below) imports workflows (above)' },
        { rule: 'tooling', message: 'activities/pagerduty.ts -> dev/pagerduty/stand-in.ts: product code may not import dev/test/bench/scripts code' },
        { rule: 'sealed', message: expect.stringMatching(/^src\/cli\/main\.ts -> workflows\/incident\.ts: outside workflows\/, import only its contracts/) },
        { rule: 'sealed', message: expect.stringMatching(/^activities\/slack\.ts -> workflows\/incident\.ts: /) },
      ]),
    );
    // nothing else: type-only imports, dev → src and imports of contracts are fine
    expect(problems).toHaveLength(6);
  });

  it('an allowed exception that no longer happens is reported, so the list cannot go stale', () => {
    const root = tree({ 'src/cli/main.ts': "import type { Input } from '../../workflows/contracts.js';\nexport type X = Input;\n", 'workflows/contracts.ts': 'export type Input = 1;\n' });
    const rules = { ...MEDIC_LAYERS, allow: [{ from: 'src/cli/main.ts', to: 'workflows/incident.ts', why: 'test' }] };
    expect(checkLayers(root, rules)).toEqual([{ rule: 'stale-allow', message: 'src/cli/main.ts -> workflows/incident.ts: allowed exception no longer happens; remove it from the rules' }]);
  });
});
