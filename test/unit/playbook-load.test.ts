// Loading playbooks from real files: defaults, YAML and schema errors at exact positions,
// broken files not stopping good ones, env interpolation, `medic validate`, and the generated
// JSON Schema staying in step with the zod schema.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, renderSchema, SCHEMA_PATH } from '../../scripts/gen-playbook-schema.js';
import { validateCommand } from '../../src/cli/validate.js';
import { interpolateEnv, loadPlaybooks, parsePlaybook, type PlaybookProblem } from '../../src/playbooks/load.js';
import { runMedicCli } from '../support/cli.js';
import { ROOT } from '../support/paths.js';

const MODELINE = '# yaml-language-server: $schema=./playbook.schema.json';

const VALID = `${MODELINE}
name: web-down
match:
  alertname: [WebDown, WebSlow]
steps:
  - name: restart
    action: http
    params:
      url: http://127.0.0.1:9/restart
`;

let dir: string;
let n = 0;
/** A fresh directory under the test's tmp dir holding the given files. */
async function folder(files: Record<string, string>): Promise<string> {
  const d = join(dir, `case-${++n}`);
  await mkdir(d);
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

const at = (p: PlaybookProblem): string => `${p.line}:${p.column}: ${p.message}`;
const problemsOf = (text: string, env: Record<string, string> = {}): string[] =>
  parsePlaybook(text, 'pb.yaml', env).problems.map(at);

function capture(): { log: (s: string) => void; error: (s: string) => void; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (s) => out.push(s), error: (s) => err.push(s) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medic-playbooks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a valid playbook', () => {
  it('loads with every default applied', async () => {
    const d = await folder({ 'web.yaml': VALID });
    const { playbooks, problems, files } = await loadPlaybooks([d]);
    expect(problems).toEqual([]);
    expect(files).toEqual([join(d, 'web.yaml')]);
    expect(playbooks).toHaveLength(1);
    const pb = playbooks[0]!;
    expect(pb).toMatchObject({
      name: 'web-down',
      description: '',
      match: { alertname: ['WebDown', 'WebSlow'] },
      groupBy: ['alertname', 'service'],
      cooldown: '15m',
      maintenanceWindows: [],
      deploymentLabel: 'deploying',
      dryRun: false,
      holdAfterEscalation: '4h',
      escalation: [{ kind: 'record', to: 'on-call' }],
      limits: {
        maxActionsPerHourPerTarget: 6,
        maxActionsPerHourGlobal: 60,
        maxConcurrentPerTarget: 1,
        maxConcurrentGlobal: 10,
        blastRadius: 1,
        maxHold: '1h',
      },
    });
    expect(pb.steps[0]).toEqual({
      name: 'restart',
      action: 'http',
      params: { method: 'POST', url: 'http://127.0.0.1:9/restart', headers: {}, expectStatus: [200, 201, 202, 204] },
      risk: 'low',
      requiresApproval: false,
      approvers: [],
      fourEyes: false,
      approvalTimeout: '30m',
      targets: [],
      timeout: '30s',
      retries: 3,
      attempts: 1,
    });
  });

  it('loads .yml files too, ignores other files, in name order', async () => {
    const d = await folder({
      'b.yml': VALID.replace('web-down', 'bbb'),
      'a.yaml': VALID.replace('web-down', 'aaa'),
      'notes.txt': 'not a playbook',
      'playbook.schema.json': '{}',
    });
    const { playbooks, problems } = await loadPlaybooks([d]);
    expect(problems).toEqual([]);
    expect(playbooks.map((p) => p.name)).toEqual(['aaa', 'bbb']);
  });
});

describe('YAML syntax errors', () => {
  it('reports an unclosed quote where the scanner gives up', () => {
    expect(problemsOf('name: web\nmatch:\n  alertname: "A\n')).toEqual(['4:1: YAML: Missing closing "quote']);
  });

  it('reports a tab used as indentation on its line', () => {
    expect(problemsOf('name: web\nmatch:\n\talertname: A\n')).toEqual(['3:1: YAML: Tabs are not allowed as indentation']);
  });

  it('reports a duplicate key at the second occurrence', () => {
    expect(problemsOf(`${MODELINE}\nname: web\nmatch: {alertname: A}\nname: again\n`)).toEqual([
      '4:1: YAML: Map keys must be unique',
    ]);
  });
});

describe('schema errors point at the offending line and column', () => {
  it('unknown key, bad duration and bad url, in file order', () => {
    const text = `${MODELINE}
name: broken
match:
  alertname: A
cooldown: 10 minutes
colour: blue
steps:
  - name: call
    action: http
    params:
      method: POST
      url: not-a-url
`;
    expect(problemsOf(text)).toEqual([
      '5:1: cooldown: must be a duration like 500ms, 30s, 5m, 1h or 2d',
      '6:1: Unrecognized key: "colour"',
      '12:7: steps.0.params.url: must be an absolute http(s) URL (scheme://host/…)',
    ]);
  });

  it('an unknown key inside a nested object is reported on that key', () => {
    const text = VALID.replace('      url: http://127.0.0.1:9/restart', '      url: http://127.0.0.1:9/restart\n      retry: 3');
    expect(problemsOf(text)).toEqual(['10:7: steps.0.params: Unrecognized key: "retry"']);
  });

  it('missing steps is reported as required, at the top of the document', () => {
    const text = `${MODELINE}\nname: no-steps\nmatch:\n  alertname: A\n`;
    expect(problemsOf(text)).toEqual(['2:1: steps: is required (expected array)']);
  });

  it('a step that requires approval without approvers is reported at that step', () => {
    const text = `name: approvals
match:
  alertname: A
steps:
  - name: first
    action: http
    timeout: soon
    params:
      url: http://x/y
  - name: second
    action: http
    requiresApproval: true
    params:
      url: http://x/y
`;
    expect(problemsOf(text)).toEqual([
      '7:5: steps.0.timeout: must be a duration like 500ms, 30s, 5m, 1h or 2d',
      '10:5: steps.1.approvers: a step that requires approval must list approvers',
    ]);
  });

  it('accepts http(s) urls with templates in the path or query only: a template may not choose scheme or host', () => {
    const withUrl = (url: string): string[] => problemsOf(VALID.replace('http://127.0.0.1:9/restart', url));
    expect(withUrl('https://example.com/x')).toEqual([]);
    expect(withUrl('"https://example.com/v1/{{labels.service}}/restart?who={{labels.team}}"')).toEqual([]);
    expect(withUrl('"{{annotations.restart_url}}"')).toEqual(['9:7: steps.0.params.url: must be an absolute http(s) URL (scheme://host/…)']);
    expect(withUrl('"https://{{labels.host}}/restart"')).toEqual([
      '9:7: steps.0.params.url: the scheme://host[:port] part must be literal: a template may not choose where a request goes (found a {{…}} in "https://{{labels.host}}")',
    ]);
    expect(withUrl('ftp://example.com/x')).toEqual(['9:7: steps.0.params.url: must be an http(s) URL']);
  });

  it('rejects a ~regex label matcher that does not compile', () => {
    const text = VALID.replace('  alertname: [WebDown, WebSlow]', '  labels:\n    env: "~prod("\n    team: "~a|b"');
    expect(problemsOf(text)).toEqual(['5:5: match.labels.env: invalid regular expression ~prod(']);
  });

  it('an empty file is one problem, not a crash', () => {
    expect(problemsOf('')).toEqual(['1:1: Invalid input: expected object, received null']);
  });
});

describe('several files', () => {
  it('a broken file does not stop a good one from loading', async () => {
    const d = await folder({ 'a-broken.yaml': 'name: [oops\n', 'b-good.yaml': VALID });
    const { playbooks, problems, files } = await loadPlaybooks([d]);
    expect(files).toHaveLength(2);
    expect(playbooks.map((p) => p.name)).toEqual(['web-down']);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.file === join(d, 'a-broken.yaml'))).toBe(true);
  });

  it('a duplicate name is reported on the second file, at its name', async () => {
    const d = await folder({ 'a.yaml': VALID, 'b.yaml': VALID });
    const { playbooks, problems } = await loadPlaybooks([d]);
    expect(playbooks).toHaveLength(1);
    expect(problems).toEqual([
      {
        file: join(d, 'b.yaml'),
        line: 2,
        column: 1,
        message: `name: "web-down" is already used by ${join(d, 'a.yaml')}`,
      },
    ]);
  });

  it('a path that does not exist is a problem; the other paths still load', async () => {
    const d = await folder({ 'web.yaml': VALID });
    const missing = join(dir, 'no-such-dir');
    const { playbooks, problems } = await loadPlaybooks([missing, d]);
    expect(playbooks.map((p) => p.name)).toEqual(['web-down']);
    expect(problems).toEqual([{ file: missing, line: 1, column: 1, message: 'no such file or directory' }]);
  });
});

describe('environment interpolation', () => {
  it('replaces ${VAR} and ${VAR:-default} before parsing', () => {
    const text = VALID.replace('http://127.0.0.1:9/restart', '${RESTART_URL}').replace(
      '    action: http',
      '    action: http\n    timeout: ${STEP_TIMEOUT:-45s}',
    );
    const set = parsePlaybook(text, 'pb.yaml', { env: { RESTART_URL: 'https://ops.example/restart', STEP_TIMEOUT: '2m' }, allow: ['RESTART_URL', 'STEP_TIMEOUT'] });
    expect(set.problems).toEqual([]);
    const step = set.playbook?.steps[0];
    expect(step?.action === 'http' ? step.params.url : undefined).toBe('https://ops.example/restart');
    expect(set.playbook?.steps[0]?.timeout).toBe('2m');
    const defaulted = parsePlaybook(text, 'pb.yaml', { RESTART_URL: 'http://a/b', MEDIC_PLAYBOOK_ENV: 'RESTART_URL, STEP_TIMEOUT' });
    expect(defaulted.playbook?.steps[0]?.timeout).toBe('45s');
  });

  it('follows the shell: an empty variable takes the default, an unset one without default is empty', () => {
    expect(interpolateEnv('${MEDIC_PB_A:-x} ${MEDIC_PB_B:-y} ${MEDIC_PB_C}|', { env: { MEDIC_PB_A: '', MEDIC_PB_B: 'set' }, allow: [] })).toEqual({ text: 'x set |', refused: [] });
  });

  it('reads only MEDIC_PB_* and the configured names: any other ${VAR} fails validation at its position, its value unread', () => {
    const env = { MEDIC_SLACK_BOT_TOKEN: 'xoxb-secret-token', HOME: '/root', MEDIC_PB_URL: 'https://ops.example' };
    const text = VALID.replace('http://127.0.0.1:9/restart', '"${MEDIC_PB_URL}/restart?t=${MEDIC_SLACK_BOT_TOKEN}"').replace('name: web-down', 'name: web-down\ndescription: ${HOME}');
    const r = parsePlaybook(text, 'pb.yaml', env);
    expect(r.playbook).toBeUndefined();
    expect(r.problems.map(at)).toEqual([
      '3:14: ${HOME}: playbooks may only read MEDIC_PB_* variables and those listed in playbookEnv (MEDIC_PLAYBOOK_ENV); rename it MEDIC_PB_HOME or list it there',
      '10:39: ${MEDIC_SLACK_BOT_TOKEN}: playbooks may only read MEDIC_PB_* variables and those listed in playbookEnv (MEDIC_PLAYBOOK_ENV); rename it MEDIC_PB_MEDIC_SLACK_BOT_TOKEN or list it there',
    ]);
    expect(JSON.stringify(r)).not.toContain('xoxb-secret-token');
    // Listed in the policy (config playbookEnv), HOME is read; the token still is not.
    expect(parsePlaybook(text, 'pb.yaml', { env, allow: ['HOME'] }).problems.map(at)).toHaveLength(1);
    const ok = parsePlaybook(text.replace('?t=${MEDIC_SLACK_BOT_TOKEN}', ''), 'pb.yaml', { env, allow: ['HOME'] });
    expect(ok.problems).toEqual([]);
    expect(ok.playbook?.description).toBe('/root');
    const step = ok.playbook?.steps[0];
    expect(step?.action === 'http' ? step.params.url : undefined).toBe('https://ops.example/restart');
  });

  it('an unset variable that leaves an invalid value is reported by the schema', () => {
    const text = VALID.replace('http://127.0.0.1:9/restart', '${MEDIC_PB_RESTART_URL}/restart');
    expect(problemsOf(text, {})).toEqual([
      '9:7: steps.0.params.url: must be an absolute http(s) URL (scheme://host/…)',
    ]);
  });
});

describe('shipped playbooks', () => {
  it('all validate with zero problems and carry the schema modeline', async () => {
    const shipped = join(ROOT, 'playbooks');
    const { playbooks, problems, files } = await loadPlaybooks([shipped]);
    expect(problems).toEqual([]);
    expect(files.length).toBeGreaterThan(0);
    expect(playbooks).toHaveLength(files.length);
    for (const f of files) expect((await readFile(f, 'utf8')).split('\n')[0]).toBe(MODELINE);
    const names = (await readdir(shipped)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
    expect(files.map((f) => f.slice(shipped.length + 1))).toEqual(names.sort());
  });
});

describe('medic validate', () => {
  it('exits 0 with a summary when every file is valid', async () => {
    const d = await folder({ 'a.yaml': VALID, 'b.yaml': VALID.replace('web-down', 'other') });
    const c = capture();
    expect(await validateCommand([d], c)).toBe(0);
    expect(c.err).toEqual([]);
    expect(c.out).toEqual(['2 playbook(s) valid, no problems']);
  });

  it('exits 1 and prints every problem as file:line:column: message', async () => {
    const broken = `name: broken\nmatch:\n  alertname: A\ncooldown: soon\nsteps:\n  - name: x\n    action: http\n    params:\n      url: nope\n    colour: red\n`;
    const d = await folder({ 'a.yaml': VALID, 'b.yaml': VALID.replace('web-down', 'other'), 'c.yaml': broken });
    const c = capture();
    expect(await validateCommand([d], c)).toBe(1);
    const file = join(d, 'c.yaml');
    expect(c.err).toEqual([
      `${file}:4:1: cooldown: must be a duration like 500ms, 30s, 5m, 1h or 2d`,
      `${file}:9:7: steps.0.params.url: must be an absolute http(s) URL (scheme://host/…)`,
      `${file}:10:5: steps.0: Unrecognized key: "colour"`,
    ]);
    expect(c.out).toEqual(['2 playbook(s) valid, 1 file(s) with 3 problem(s)']);
  });

  it('exits 1 when no playbook files are found', async () => {
    const d = await folder({ 'README.md': '# nothing here' });
    const c = capture();
    expect(await validateCommand([d], c)).toBe(1);
    expect(c.err).toEqual([`no playbook files found in ${d} (looked for *.yaml and *.yml)`]);
  });

  it('a nonexistent path is reported, not thrown', async () => {
    const missing = join(dir, 'missing.yaml');
    const d = await folder({ 'a.yaml': VALID });
    const c = capture();
    expect(await validateCommand([d, missing], c)).toBe(1);
    expect(c.err).toEqual([`${missing}:1:1: no such file or directory`]);
    expect(c.out).toEqual(['1 playbook(s) valid, 1 file(s) with 1 problem(s)']);

    const alone = capture();
    expect(await validateCommand([missing], alone)).toBe(1);
    expect(alone.err).toEqual([
      `${missing}:1:1: no such file or directory`,
      `no playbook files found in ${missing} (looked for *.yaml and *.yml)`,
    ]);
  });

  // `medic validate` run in a directory (unit files share one worker thread, where process.chdir
  // is not available): the default is ./playbooks of the working directory.
  it('defaults to ./playbooks', async () => {
    const d = await folder({});
    await mkdir(join(d, 'playbooks'));
    await writeFile(join(d, 'playbooks', 'web.yaml'), VALID);
    expect(await runMedicCli(['validate'], {}, d)).toEqual({ code: 0, out: '1 playbook(s) valid, no problems\n', err: '' });
  });
});

describe('generated JSON Schema', () => {
  it('the committed playbooks/playbook.schema.json is up to date', async () => {
    expect(await readFile(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
    expect(await checkSchema()).toMatchObject({ upToDate: true });
  });

  it('is draft-07 with an id, and keeps defaults optional (input mode)', () => {
    const schema = JSON.parse(renderSchema()) as {
      $schema: string;
      $id: string;
      title: string;
      required: string[];
      properties: Record<string, { default?: unknown }>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toMatch(/^https:\/\/.+playbook\.schema\.json$/);
    expect(schema.title).toBe('medic playbook');
    expect(schema.required).toEqual(['name', 'match', 'steps']);
    expect(schema.properties.cooldown?.default).toBe('15m');
  });

  it('lets a URL field hold a ${VAR:-default} reference, as the shipped playbook does', () => {
    const schema = JSON.parse(renderSchema());
    type Variant = { properties: { action: { const: string }; params: { properties: { url: unknown } } } };
    const http = (schema.properties.steps.items.oneOf as Variant[]).find((v) => v.properties.action.const === 'http');
    // The origin rule lives in the zod refinement (medic validate); editors see a plain string.
    const url = http!.properties.params.properties.url as { type: string; pattern?: string };
    expect(url.type).toBe('string');
    expect(url.pattern).toBeUndefined();
  });

  it('the check reports a stale file with the command that fixes it', async () => {
    const stale = join(dir, 'stale.schema.json');
    await writeFile(stale, renderSchema().replace('"medic playbook"', '"old title"'));
    const result = await checkSchema(stale);
    expect(result.upToDate).toBe(false);
    expect(result.message).toContain('out of date');
    expect(result.message).toContain('npm run schema');
    expect((await checkSchema(join(dir, 'absent.json'))).upToDate).toBe(false);
  });

  it('`gen-playbook-schema --check` exits 0 on the committed file', async () => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [tsx, 'scripts/gen-playbook-schema.ts', '--check'], {
      cwd: ROOT,
    });
    expect(stdout).toContain('is up to date');
  });
});
