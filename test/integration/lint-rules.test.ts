// The lint rules that protect Temporal's deterministic replay: workflow code may not import Node
// built-ins or leave a promise floating. Run through ESLint's Node API with the repo's config (the
// real ESLint building the whole TypeScript program: ~30 s of CPU, so not in `npm run test:fast`).
// The type-aware rule needs the file inside the TypeScript project, so the fixture is written
// under workflows/ (git-ignored) and always removed afterwards.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';

// Unique per process, so parallel runs (and anyone's `eslint .`) never share the fixture.
const FIXTURE = `workflows/__lint_fixture__${process.pid}.ts`;
const fixturePath = join(ROOT, FIXTURE);

const BAD = `import { readFileSync } from 'node:fs';

async function readHost(): Promise<string> {
  return readFileSync('/etc/hostname', 'utf8');
}

export async function lintFixtureWorkflow(): Promise<void> {
  readHost();
}
`;

const GOOD = `import { sleep } from '@temporalio/workflow';

async function pause(): Promise<void> {
  await sleep('1s');
}

export async function lintFixtureWorkflow(): Promise<void> {
  await pause();
  void pause();
}
`;

let eslint: ESLint;

beforeAll(async () => {
  await writeFile(fixturePath, BAD);
  eslint = new ESLint({ cwd: ROOT });
});

afterAll(async () => {
  await rm(fixturePath, { force: true });
});

async function lint(code: string): Promise<{ rule: string | null; line: number; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: fixturePath });
  return (result?.messages ?? []).map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

describe('workflow lint rules', () => {
  it('flags a Node built-in import and a floating promise in workflows/', async () => {
    const messages = await lint(BAD);
    expect(messages.filter((m) => m.rule === null)).toEqual([]); // no parsing/config errors
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'no-restricted-imports',
          line: 1,
          message: expect.stringContaining('deterministic sandbox'),
        }),
        expect.objectContaining({ rule: '@typescript-eslint/no-floating-promises', line: 8 }),
      ]),
    );
  });

  it('accepts workflow code that awaits or explicitly voids its promises', async () => {
    expect(await lint(GOOD)).toEqual([]);
  });
});
