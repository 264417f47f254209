// All activities the worker registers, built once from their clients.
import { createAlertmanagerActivities } from './alertmanager.js';
import { createSimilarActivities } from './store.js';
import type { IncidentStore } from '../src/store/store.js';
import { createFlagActivities } from './flags.js';
import { createGovernorActivities, type GovernorDeps } from './governor.js';
import { createHttpActivities, type HttpDeps } from './http.js';
import { event as pdEvent } from '@pagerduty/pdjs';
import { createPagerDutyActivities, type PagerDutyDeps } from './pagerduty.js';
import { createPrometheusActivities } from './prometheus.js';
import { createPublishActivities } from './publish.js';
import type { IncidentSink } from '../src/sinks/sink.js';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createSsmActivities } from './ssm.js';
import { createAnsibleActivities, type AnsibleDeps } from './ansible.js';
import { createKubernetesActivities, type KubernetesDeps } from './kubernetes.js';
import { createDrillActivities } from './drills.js';
import type { DrillTarget } from '../src/drills/schema.js';
import { TASK_QUEUE } from '../workflows/contracts.js';
import { createDigestActivities, type DigestDeps } from './digest.js';
import { createIdentityActivities, type IdentityDeps } from './identity.js';
import { createPlaybookActivities, type PlaybookDeps } from './playbooks.js';
import { createOpaActivities, type OpaDeps } from './opa.js';
import { createEvidenceActivities, podLogSource, type EvidenceDeps } from './evidence/index.js';

export interface ActivityDeps extends GovernorDeps, HttpDeps, IdentityDeps, PlaybookDeps {
  sinks?: IncidentSink[];
  /** PagerDuty Events API host/trust; default: pdjs against events.pagerduty.com. */
  pagerduty?: Partial<Omit<PagerDutyDeps, 'secret'>>;
  /** Default Prometheus for PromQL verification (MEDIC_PROMETHEUS_URL). */
  prometheusUrl?: string;
  /** The incident store, for similar past incidents (absent: none are shown). */
  store?: IncidentStore;
  /** Alertmanager API v2 for silences tied to incidents (config alertmanager.url). */
  alertmanagerUrl?: string;
  /** AWS SSM (default: a client from the standard AWS chain for region and credentials). */
  ssm?: SSMClient;
  /** EC2, to read instance tags for allow.ssm.instanceTags (default: the standard AWS chain). */
  ec2?: EC2Client;
  /** ansible-playbook, the playbook directory and the inventory; absent: ansible steps fail with "not configured". */
  ansible?: AnsibleDeps;
  /** Kubernetes API clients; absent: Kubernetes steps fail with "not configured". */
  kubernetes?: KubernetesDeps;
  /** What chaos drills may break (config drills.targets; only those marked drillable). */
  drillTargets?: Record<string, DrillTarget>;
  /** The weekly digest (store + Slack); absent: postDigest fails as not configured. */
  digest?: DigestDeps;
  /** The OPA policy gate's backends (config opa); absent: policy gates get no answer (onError). */
  opa?: OpaDeps;
  /** Evidence sources beyond the clients above: a log store, the incident store (medic's own
   * earlier actions), deployment markers. Logs default to the pod log API when Kubernetes is set. */
  evidence?: Pick<EvidenceDeps, 'logs' | 'medicActions' | 'markers' | 'maxBytes'>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHttpActivities(deps),
    ...createGovernorActivities(deps),
    ...createPublishActivities({ sinks: deps.sinks ?? [] }),
    ...createPrometheusActivities({ fetch: deps.fetch, ...(deps.prometheusUrl ? { baseUrl: deps.prometheusUrl } : {}) }),
    ...createAlertmanagerActivities({ fetch: deps.fetch, ...(deps.alertmanagerUrl ? { baseUrl: deps.alertmanagerUrl } : {}) }),
    ...createSimilarActivities(deps.store),
    ...createPagerDutyActivities({ event: pdEvent, ...deps.pagerduty, secret: deps.secret }),
    ...createSsmActivities({ ssm: deps.ssm ?? new SSMClient({}), ec2: deps.ec2 ?? new EC2Client({}) }),
    ...createFlagActivities({ fetch: deps.fetch, secret: deps.secret }),
    ...createAnsibleActivities(deps.ansible),
    ...createKubernetesActivities(deps.kubernetes),
    ...createDrillActivities({
      client: deps.client,
      taskQueue: deps.taskQueue ?? TASK_QUEUE,
      targets: deps.drillTargets ?? {},
      fetch: deps.fetch,
      secret: deps.secret,
      ssm: deps.ssm ?? new SSMClient({}),
      sinks: deps.sinks ?? [],
      ...(deps.kubernetes ? { kube: deps.kubernetes.clients } : {}),
    }),
    ...createDigestActivities(deps.digest),
    ...createIdentityActivities(deps),
    ...createPlaybookActivities(deps),
    ...createOpaActivities(deps.opa),
    ...createEvidenceActivities({
      fetch: deps.fetch,
      secret: deps.secret,
      ...(deps.prometheusUrl ? { prometheusUrl: deps.prometheusUrl } : {}),
      ...(deps.kubernetes ? { kubernetes: { clients: deps.kubernetes.clients, namespace: deps.kubernetes.namespace } } : {}),
      ...(deps.kubernetes ? { logs: podLogSource(deps.kubernetes.clients, deps.kubernetes.namespace) } : {}),
      ...deps.evidence,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
