// `medic simulate --playbooks dir --alerts recorded.jsonl | --from-alertmanager URL [--json]`:
// what medic would do with these alerts, decided by its real code with every action in dry run.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { createOpaActivities, opaDeps } from '../../activities/opa.js';
import { ConfigSchema } from '../config.js';
import { CorrelationSchema } from '../intake/correlate.js';
import { formatProblem, loadPlaybooks } from '../playbooks/load.js';
import { fetchAlertmanagerAlerts, readRecordedAlerts } from '../simulate/alerts.js';
import { dryRunActuator } from '../simulate/actuator.js';
import { simulate, type PolicyEvaluator, type SimOptions } from '../simulate/engine.js';
import { simulateAnsibleDeps } from '../simulate/ansible.js';
import { KubernetesConfigError, simulateKubernetesDeps } from '../simulate/kubernetes.js';
import { formatSimulation } from '../simulate/format.js';
import { createEvidenceActivities, podLogSource, victoriaLogsSource } from '../../activities/evidence/index.js';

/** Prometheus and the log store, from the config file (else MEDIC_PROMETHEUS_URL / MEDIC_LOGS_URL). */
async function evidenceUrlsOf(path: string | undefined): Promise<{ prometheus?: string; logs?: string }> {
  const doc = path ? (parseYaml(await readFile(path, 'utf8')) as { prometheus?: { url?: unknown }; logs?: { url?: unknown } } | null) : null;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const prometheus = str(doc?.prometheus?.url) ?? str(process.env.MEDIC_PROMETHEUS_URL);
  const logs = str(doc?.logs?.url) ?? str(process.env.MEDIC_LOGS_URL);
  return { ...(prometheus ? { prometheus } : {}), ...(logs ? { logs } : {}) };
}

export class SimulateUsageError extends Error {}

export interface SimulateFlags {
  playbooks?: string;
  alerts?: string;
  'from-alertmanager'?: string;
  json?: boolean;
  paused?: boolean;
  config?: string;
  live?: boolean;
  'opa-url'?: string;
  'opa-bundle'?: string;
}

/** A section of a medic config file, when one is given, parsed by its schema. */
async function sectionOf<T>(path: string | undefined, name: 'correlation' | 'opa', schema: z.ZodType<T>): Promise<T | undefined> {
  if (!path) return undefined;
  const doc = parseYaml(await readFile(path, 'utf8')) as Record<string, unknown> | null;
  if (!doc?.[name]) return undefined;
  const parsed = schema.safeParse(doc[name]);
  if (!parsed.success) throw new SimulateUsageError(`${path}: ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** OPA for the policy gates: --opa-url / --opa-bundle, else the config file's opa section. */
async function policyOf(flags: SimulateFlags): Promise<PolicyEvaluator | undefined> {
  const c = flags['opa-url'] || flags['opa-bundle'] ? { url: flags['opa-url'], bundle: flags['opa-bundle'] } : await sectionOf(flags.config, 'opa', ConfigSchema.shape.opa);
  return c ? createOpaActivities(opaDeps(c)).opaDecide : undefined;
}

export async function simulateCommand(
  flags: SimulateFlags,
  out: { log: (s: string) => void; error: (s: string) => void },
  /** --live: the running medic's governor state (GET /api/governor). */
  governor?: () => Promise<SimOptions['governor']>,
): Promise<number> {
  if (!flags.alerts === !flags['from-alertmanager']) {
    throw new SimulateUsageError('usage: medic simulate [--playbooks dir] (--alerts recorded.jsonl | --from-alertmanager URL) [--json] [--paused] [--live] [--config medic.yaml]');
  }
  const { playbooks, problems } = await loadPlaybooks((flags.playbooks ?? 'playbooks').split(','));
  for (const p of problems) out.error(`playbook skipped: ${formatProblem(p)}`);
  if (playbooks.length === 0) throw new SimulateUsageError(`no valid playbook in ${flags.playbooks ?? 'playbooks'}`);
  const alerts = flags.alerts ? await readRecordedAlerts(flags.alerts) : await fetchAlertmanagerAlerts(flags['from-alertmanager']!);
  const correlation = await sectionOf(flags.config, 'correlation', CorrelationSchema);
  const policy = await policyOf(flags);
  const live = flags.live && governor ? await governor() : undefined;
  // kubernetes steps are dry-run against the cluster the config names (the API server's dryRun=All).
  const kubernetes = await simulateKubernetesDeps(flags.config).catch((err: unknown) => {
    throw err instanceof KubernetesConfigError ? new SimulateUsageError(err.message) : err;
  });
  // Evidence is read for real (read-only), so `when:` conditions decide as they would in a run.
  const urls = await evidenceUrlsOf(flags.config);
  const evidence = createEvidenceActivities({
    fetch: globalThis.fetch,
    secret: (name) => process.env[`MEDIC_SECRET_${name}`],
    ...(urls.prometheus ? { prometheusUrl: urls.prometheus } : {}),
    ...(kubernetes ? { kubernetes: { clients: kubernetes.clients, namespace: kubernetes.namespace } } : {}),
    ...(urls.logs ? { logs: victoriaLogsSource({ url: urls.logs }) } : kubernetes ? { logs: podLogSource(kubernetes.clients, kubernetes.namespace) } : {}),
  });
  // ansible steps are checked (--check --diff) against the inventory the config names.
  const ansible = await simulateAnsibleDeps(flags.config).catch((err: unknown) => {
    throw new SimulateUsageError((err as Error).message);
  });
  const result = await simulate(alerts, {
    playbooks,
    evidence: evidence.collectEvidence,
    actuator: dryRunActuator({ secret: (name) => process.env[`MEDIC_SECRET_${name}`], ...(kubernetes ? { kubernetes } : {}), ...(ansible ? { ansible } : {}) }),
    ...(correlation ? { correlation } : {}),
    ...(policy ? { policy } : {}),
    ...(flags.paused ? { pause: { paused: true, by: 'simulate --paused' } } : {}),
    ...(live ? { governor: live } : {}),
  });
  out.log(flags.json ? JSON.stringify(result, null, 2) : formatSimulation(result));
  return 0;
}
