// The import-direction check (docs/architecture.md, "Layers"): parses every module's imports with
// TypeScript's own parser and reports import cycles, imports that point up the layer map, product
// code importing dev/test/bench/scripts, and code outside workflows/ reaching past its contracts.
// Run by test/unit/layers.test.ts over the repository (and over planted violations).
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import ts from 'typescript';

export interface Layer {
  name: string;
  /** Higher layers may import lower ones at run time, never the reverse. */
  rank: number;
  /** Repository-relative paths (forward slashes); the first layer whose pattern matches wins. */
  match: RegExp;
}

export interface LayerRules {
  /** Directories scanned, relative to the root. */
  roots: string[];
  layers: Layer[];
  /** Files that make up the product (what the runtime image holds). */
  product: RegExp;
  /** Code the product must never import, not even its types (stand-ins, tests, benches, tools). */
  tooling: RegExp;
  /** Internal modules of a layer that only that layer (and `sealedFor`) may import. */
  sealed: { match: RegExp; except: RegExp; sealedFor: RegExp; why: string };
  /** Known `from -> to` edges that break `sealed`, each with the reason it is tolerated for now. */
  allow: { from: string; to: string; why: string }[];
}

export interface Import {
  from: string;
  to: string;
  /** `import type` / `export type` (erased at compile time: no run-time dependency). */
  typeOnly: boolean;
}

export interface Problem {
  rule: 'cycle' | 'direction' | 'tooling' | 'sealed' | 'stale-allow';
  message: string;
}

const walk = (root: string, dir: string): string[] => {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = posix.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : walk(root, path);
    return /\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
};

const typeOnlyClause = (c: ts.ImportClause | undefined): boolean =>
  !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));

/** Relative imports of one module (static, re-exports and literal dynamic `import()`), resolved to repository paths. */
export function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: typeOnlyClause(node.importClause) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push({ spec: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found
    .filter((f) => f.spec.startsWith('./') || f.spec.startsWith('../'))
    .map((f) => ({ from: file, to: posix.normalize(posix.join(posix.dirname(file), f.spec)).replace(/\.(m?)js$/, '.$1ts'), typeOnly: f.typeOnly }));
}

/** Every import cycle among run-time imports (Tarjan's strongly connected components), each as a list of files. */
export function cyclesOf(imports: Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const i of imports) if (!i.typeOnly) next.set(i.from, [...(next.get(i.from) ?? []), i.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v);
  return cycles;
}

/** All problems in the tree under `root`; an empty list means the layer map holds. */
export function checkLayers(root: string, rules: LayerRules): Problem[] {
  const files = rules.roots.flatMap((r) => walk(root, r)).map((f) => f.split(sep).join('/'));
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(root, f), 'utf8')));
  const layerOf = (f: string): Layer | undefined => rules.layers.find((l) => l.match.test(f));
  const problems: Problem[] = [];
  for (const cycle of cyclesOf(imports)) problems.push({ rule: 'cycle', message: `import cycle: ${cycle.join(' -> ')}` });
  const usedAllows = new Set<string>();
  for (const i of imports) {
    const edge = `${i.from} -> ${i.to}`;
    if (rules.product.test(i.from) && rules.tooling.test(i.to)) {
      problems.push({ rule: 'tooling', message: `${edge}: product code may not import dev/test/bench/scripts code` });
      continue;
    }
    const [a, b] = [layerOf(i.from), layerOf(i.to)];
    if (!i.typeOnly && a && b && a.rank < b.rank) {
      problems.push({ rule: 'direction', message: `${edge}: ${a.name} (below) imports ${b.name} (above)` });
    }
    const s = rules.sealed;
    if (!i.typeOnly && rules.product.test(i.from) && s.match.test(i.to) && !s.except.test(i.to) && !s.sealedFor.test(i.from)) {
      const allowed = rules.allow.find((x) => x.from === i.from && x.to === i.to);
      if (allowed) usedAllows.add(edge);
      else problems.push({ rule: 'sealed', message: `${edge}: ${s.why}` });
    }
  }
  for (const x of rules.allow) {
    const edge = `${x.from} -> ${x.to}`;
    if (!usedAllows.has(edge)) problems.push({ rule: 'stale-allow', message: `${edge}: allowed exception no longer happens; remove it from the rules` });
  }
  return problems;
}

/**
 * medic's layer map, top to bottom: app (intake, HTTP server, Slack app, CLI, worker bootstrap,
 * simulate) → workflows → activities → lib (clients and pure domain: playbooks, policy, store,
 * audit, sinks, Slack rendering and pacing, config schemas) → contracts. Type-only imports are erased at
 * compile time, so only run-time imports must point down; none may reach dev/test/bench/scripts.
 */
export const MEDIC_LAYERS: LayerRules = {
  roots: ['src', 'workflows', 'activities', 'dev', 'test', 'bench', 'scripts'],
  layers: [
    { name: 'tooling', rank: 5, match: /^(dev|test|bench|scripts)\// },
    { name: 'contracts', rank: 0, match: /^workflows\/contracts[^/]*\.ts$/ },
    { name: 'workflows', rank: 3, match: /^workflows\// },
    { name: 'activities', rank: 2, match: /^activities\// },
    {
      name: 'lib',
      rank: 1,
      match:
        /^src\/((config|log|tracing)\.ts|(playbooks|policy|store|audit|report|graphs|identity|runbooks|yaml|drills|sinks|incident|evidence)\/|postmortem\/(load|markdown|evidence)\.ts|detect\/(schema|algorithms)\.ts|slack\/(ui\/|rate-limit\.ts|visibility\.ts)|intake\/(schemas|limits|correlate|bus\/config)\.ts|events\/lifecycle\.ts|temporal\/tls-config\.ts|simulate\/sequence\.ts|digest\/(digest|config)\.ts)/,
    },
    { name: 'app', rank: 4, match: /^src\// },
  ],
  product: /^(src|workflows|activities)\//,
  tooling: /^(dev|test|bench|scripts)\//,
  sealed: {
    match: /^workflows\//,
    except: /^workflows\/contracts[^/]*\.ts$/,
    sealedFor: /^workflows\//,
    why: 'outside workflows/, import only its contracts (workflow code runs in the sandbox)',
  },
  allow: [
    { from: 'src/simulate/actuator.ts', to: 'workflows/actions.ts', why: 'simulate re-uses the workflow\'s step rendering until both run the pure decision core (issue 12)' },
    { from: 'src/simulate/dry-run.ts', to: 'workflows/describe.ts', why: 'simulate hands the decision core the same pure step renderers the workflow does (they live beside the activity calls)' },
    { from: 'src/simulate/kubernetes.ts', to: 'workflows/kubernetes.ts', why: 'as above' },
  ],
};
