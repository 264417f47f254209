// AWS Systems Manager actions: Run Command (SendCommand) and Automation (StartAutomationExecution).
// Factory over an injected SSMClient (region/credentials from the standard AWS chain; the
// endpoint is overridden only for tests, where moto's server mode is the real part).
//
// Idempotency: the workflow's idempotency key (incident + step + the workflow's try, never the
// activity attempt) is the command's Comment (Run Command) or, as a UUID, the ClientToken
// (Automation). A retried activity finds the command it already sent and polls it instead of
// sending it again; the id is also kept in heartbeat details.
//
// Alert data is hostile: before anything is sent, the rendered input is re-validated (instance
// ids, allow.ssm) and checked against the document's own parameter declarations and the
// instances' tags (activities/ssm-checks.ts); a violation is a non-retryable SsmRefused.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  GetAutomationExecutionCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  StartAutomationExecutionCommand,
  type Command,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SsmAllow } from '../src/playbooks/allow-ssm.js';
import { allowTargets, ssmInputProblem } from '../src/playbooks/ssm-guard.js';
import { capOutput } from './redact.js';
import { checkSsmInput, refusal } from './ssm-checks.js';
import { heartbeat, inActivity } from './context.js';

export interface SsmDeps {
  ssm: SSMClient;
  /** Reads EC2 instance tags for allow.ssm.instanceTags (absent: such playbooks are refused). */
  ec2?: EC2Client;
  /** First poll delay and its cap (backoff doubles in between). */
  pollMs?: { initial: number; max: number };
}

export interface SsmTarget {
  key: string;
  values: string[];
}

export interface SsmCommandInput {
  documentName: string;
  documentVersion?: string;
  parameters: Record<string, string[]>;
  /** Parameters whose value came from a template: the document must declare a pattern for them. */
  templated?: string[];
  /** The playbook's allow.ssm. */
  allow?: SsmAllow;
  instanceIds: string[];
  targets: SsmTarget[];
  idempotencyKey: string;
  dryRun: boolean;
  timeoutMs: number;
}

export interface SsmInvocation {
  instanceId: string;
  status: string;
  responseCode?: number;
  output: string;
  error: string;
}

export interface SsmCommandResult {
  dryRun: boolean;
  summary: string;
  durationMs: number;
  commandId?: string;
  /** true when a retried activity found the command its earlier attempt had sent. */
  reused?: boolean;
  status?: string;
  invocations?: SsmInvocation[];
}

export interface SsmAutomationInput {
  documentName: string;
  documentVersion?: string;
  parameters: Record<string, string[]>;
  templated?: string[];
  allow?: SsmAllow;
  idempotencyKey: string;
  dryRun: boolean;
  timeoutMs: number;
}

export interface SsmAutomationResult {
  dryRun: boolean;
  summary: string;
  durationMs: number;
  executionId?: string;
  status?: string;
  outputs?: string;
  failedSteps?: string[];
}

const COMMAND_DONE = new Set(['Success', 'Cancelled', 'Failed', 'TimedOut']);
const AUTOMATION_OK = new Set(['Success', 'CompletedWithSuccess']);
const AUTOMATION_FAILED = new Set(['TimedOut', 'Cancelled', 'Failed', 'Rejected', 'CompletedWithFailure', 'ChangeCalendarOverrideRejected', 'Exited']);

/** SendCommand's Comment holds at most 100 characters: long keys keep a readable prefix + hash. */
export function commandComment(idempotencyKey: string): string {
  const full = `medic ${idempotencyKey}`;
  if (full.length <= 100) return full;
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24);
  return `${full.slice(0, 100 - hash.length - 1)}#${hash}`;
}

/** StartAutomationExecution's ClientToken must be a UUID: a name-based one from the key. */
export function automationClientToken(idempotencyKey: string): string {
  const h = createHash('sha256').update(`medic:${idempotencyKey}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface AwsError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** A rejected request (4xx other than throttling) is permanent; outages and throttling retry. */
/** The document fields both SendCommand and StartAutomationExecution take (the version pinned by check()). */
const documentOf = (input: SsmCommandInput | SsmAutomationInput, version: string | undefined) => ({
  DocumentName: input.documentName,
  ...(version ? { DocumentVersion: version } : {}),
  Parameters: input.parameters,
});

function wrap(what: string, err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const e = err as AwsError;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'SyntaxError' && status !== undefined) {
    // Not an SSM answer at all (e.g. an HTML error page from a proxy, or an emulator lacking the API).
    const message = `${what} failed: the endpoint answered HTTP ${status} with a body that is not an SSM API response`;
    return status >= 500 ? new Error(message, { cause: err }) : ApplicationFailure.create({ type: 'SsmRejected', nonRetryable: true, message });
  }
  const throttled = /Throttl|TooManyRequests|RequestLimitExceeded/i.test(e.name ?? '') || status === 429;
  if (e.$fault === 'client' && !throttled) {
    return ApplicationFailure.create({
      type: 'SsmRejected',
      nonRetryable: true,
      message: `${what} rejected by SSM: ${e.name ?? 'error'}: ${e.message ?? String(err)}`,
      details: [{ awsError: e.name, status }],
    });
  }
  return new Error(`${what} failed: ${e.name ?? 'error'}: ${e.message ?? String(err)}`, { cause: err });
}

export function createSsmActivities(deps: SsmDeps) {
  const { ssm } = deps;
  /** Refuses a bad rendered input; without a dry run, also checks the document and the tags. */
  async function check(input: SsmCommandInput | SsmAutomationInput): Promise<{ version?: string }> {
    const problem = ssmInputProblem(input);
    if (problem) throw refusal(problem);
    return input.dryRun ? {} : checkSsmInput(input, deps, call);
  }

  const poll = deps.pollMs ?? { initial: 1_000, max: 15_000 };

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw wrap(what, err);
    }
  }

  /** Waits with backoff, heartbeating (with `details`) so a stuck worker is noticed. */
  async function pollUntil<T>(details: unknown, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let delay = poll.initial;
    for (;;) {
      heartbeat(details);
      const done = await check();
      if (done !== undefined) return done;
      if (Date.now() + delay > deadline) {
        throw ApplicationFailure.create({ type: 'SsmTimeout', nonRetryable: true, message: `still running after ${timeoutMs}ms` });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, poll.max);
    }
  }

  async function findCommand(comment: string, documentName: string, since: Date): Promise<Command | undefined> {
    let NextToken: string | undefined;
    do {
      const page = await call('ListCommands', () =>
        ssm.send(
          new ListCommandsCommand({
            Filters: [
              { key: 'DocumentName', value: documentName },
              // AWS documents the value as 2024-07-07T00:00:00Z: whole seconds.
              { key: 'InvokedAfter', value: since.toISOString().replace(/\.\d{3}Z$/, 'Z') },
            ],
            ...(NextToken ? { NextToken } : {}),
          }),
        ),
      );
      const hit = page.Commands?.find((c) => c.Comment === comment && c.DocumentName === documentName);
      if (hit) return hit;
      NextToken = page.NextToken;
    } while (NextToken);
    return undefined;
  }

  async function invocationsOf(cmd: Command): Promise<SsmInvocation[]> {
    let ids = cmd.InstanceIds ?? [];
    if (ids.length === 0) {
      // Tag targets: the instances are known only to SSM (moto lacks this API; see README).
      const listed = await call('ListCommandInvocations', () => ssm.send(new ListCommandInvocationsCommand({ CommandId: cmd.CommandId })));
      ids = (listed.CommandInvocations ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
    }
    const out: SsmInvocation[] = [];
    for (const instanceId of ids) {
      const inv = await call('GetCommandInvocation', () => ssm.send(new GetCommandInvocationCommand({ CommandId: cmd.CommandId, InstanceId: instanceId })));
      out.push({
        instanceId,
        status: inv.Status ?? 'Unknown',
        ...(inv.ResponseCode !== undefined ? { responseCode: inv.ResponseCode } : {}),
        output: capOutput(inv.StandardOutputContent ?? ''),
        error: capOutput(inv.StandardErrorContent ?? ''),
      });
    }
    return out;
  }

  async function ssmRunCommand(input: SsmCommandInput): Promise<SsmCommandResult> {
    const where = input.instanceIds.length > 0 ? input.instanceIds.join(',') : input.targets.map((t) => `${t.key}=${t.values.join('|')}`).join(' ');
    const what = `SSM ${input.documentName} on ${where}`;
    const checked = await check(input);
    if (input.dryRun) return { dryRun: true, summary: `dry run: would run ${what}`, durationMs: 0 };
    // Tag targets are narrowed to the allow-listed tags (SSM ANDs target keys).
    const targets = allowTargets(input.targets, input.allow);
    const started = Date.now();
    const comment = commandComment(input.idempotencyKey);
    // Look back over this activity's own lifetime (every attempt of it) for the command.
    const scheduled = inActivity() ? Context.current().info.scheduledTimestampMs : started;
    const since = new Date(Math.min(started, scheduled) - 60_000);
    const previous = heartbeatDetails();
    let commandId = previous?.commandId;
    let reused = commandId !== undefined;
    if (!commandId) {
      const found = await findCommand(comment, input.documentName, since);
      commandId = found?.CommandId;
      reused = commandId !== undefined;
    }
    if (!commandId) {
      const sent = await call('SendCommand', () =>
        ssm.send(
          new SendCommandCommand({
            ...documentOf(input, checked.version),
            Comment: comment,
            ...(input.instanceIds.length > 0 ? { InstanceIds: input.instanceIds } : {}),
            ...(targets.length > 0 ? { Targets: targets.map((t) => ({ Key: t.key, Values: t.values })) } : {}),
            TimeoutSeconds: Math.max(30, Math.ceil(input.timeoutMs / 1000)),
          }),
        ),
      );
      commandId = sent.Command?.CommandId;
      if (!commandId) throw new Error(`${what}: SendCommand returned no command id`);
    }
    const id = commandId;
    const cmd = await pollUntil({ commandId: id }, input.timeoutMs, async () => {
      const page = await call('ListCommands', () => ssm.send(new ListCommandsCommand({ CommandId: id })));
      const c = page.Commands?.[0];
      return c && COMMAND_DONE.has(c.Status ?? '') ? c : undefined;
    });
    const invocations = await invocationsOf(cmd);
    const durationMs = Date.now() - started;
    const status = cmd.Status ?? 'Unknown';
    const summary = `${what} → ${status} (command ${id}${reused ? ', found from an earlier attempt' : ''})`;
    if (status !== 'Success') {
      throw ApplicationFailure.create({
        type: 'SsmCommandFailed',
        nonRetryable: true,
        message: `${summary}${cmd.StatusDetails ? `: ${cmd.StatusDetails}` : ''}`,
        details: [{ commandId: id, status, invocations }],
      });
    }
    return { dryRun: false, summary, durationMs, commandId: id, reused, status, invocations };
  }

  async function ssmAutomation(input: SsmAutomationInput): Promise<SsmAutomationResult> {
    const what = `SSM Automation ${input.documentName}`;
    const checked = await check(input);
    if (input.dryRun) return { dryRun: true, summary: `dry run: would start ${what}`, durationMs: 0 };
    const started = Date.now();
    let executionId = heartbeatDetails()?.executionId;
    if (!executionId) {
      // Same ClientToken on every attempt: SSM answers with the execution it already started.
      const res = await call('StartAutomationExecution', () =>
        ssm.send(
          new StartAutomationExecutionCommand({
            ...documentOf(input, checked.version),
            ClientToken: automationClientToken(input.idempotencyKey),
          }),
        ),
      );
      executionId = res.AutomationExecutionId;
      if (!executionId) throw new Error(`${what}: StartAutomationExecution returned no execution id`);
    }
    const id = executionId;
    const exec = await pollUntil({ executionId: id }, input.timeoutMs, async () => {
      const res = await call('GetAutomationExecution', () => ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id })));
      const e = res.AutomationExecution;
      const st = e?.AutomationExecutionStatus ?? '';
      return e && (AUTOMATION_OK.has(st) || AUTOMATION_FAILED.has(st)) ? e : undefined;
    });
    const status = exec.AutomationExecutionStatus ?? 'Unknown';
    const outputs = capOutput(JSON.stringify(exec.Outputs ?? {}));
    const failedSteps = (exec.StepExecutions ?? [])
      .filter((s) => s.StepStatus !== undefined && AUTOMATION_FAILED.has(s.StepStatus))
      .map((s) => `${s.StepName ?? '?'}: ${s.StepStatus}${s.FailureMessage ? ` (${capOutput(s.FailureMessage)})` : ''}`);
    const summary = `${what} → ${status} (execution ${id})`;
    if (!AUTOMATION_OK.has(status)) {
      throw ApplicationFailure.create({
        type: 'SsmAutomationFailed',
        nonRetryable: true,
        message: `${summary}${exec.FailureMessage ? `: ${capOutput(exec.FailureMessage)}` : ''}`,
        details: [{ executionId: id, status, outputs, failedSteps }],
      });
    }
    return { dryRun: false, summary, durationMs: Date.now() - started, executionId: id, status, outputs, failedSteps };
  }

  return { ssmRunCommand, ssmAutomation };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


function heartbeatDetails(): { commandId?: string; executionId?: string } | undefined {
  return inActivity() ? (Context.current().info.heartbeatDetails as { commandId?: string; executionId?: string } | undefined) : undefined;
}
