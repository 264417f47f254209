// The `medic` CLI. Everything except `validate` goes through medic's HTTP API with an operator
// token, so the CLI acts as the operator the token belongs to, never as whoever it claims to be.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncidentDetail, SummaryRow } from './format.js';
import type { DecisionResult } from '../../workflows/contracts.js';
import { MEDIC_VERSION } from '../version.js';

const HELP = `medic — self-healing operations bot

usage: medic <command> [options]

commands:
  validate [paths…]              check playbooks (default: playbooks/); exits 1 on any problem
  simulate --alerts f.jsonl | --from-alertmanager URL [--playbooks dir] [--paused | --live] [--config medic.yaml]
           [--opa-url URL | --opa-bundle bundle.tar.gz]
                                 what medic would do with these alerts: real decision code, every action in dry run;
                                 --live takes the running medic's kill switch, cooldowns, limits and demoted steps;
                                 OPA policy gates are evaluated for real (read-only: server, Wasm bundle or config opa)
  incidents [--all]              list running (or all) incidents
  status [id]                    kill-switch state and open incidents, or one incident's timeline
  approve <id> [--reason r]      approve the pending step of an incident
  deny <id> --reason r           deny the pending step (the incident escalates)
  take <id>                      take an escalated incident from the group asked now (its members, or admins)
  resolve <id> [--reason r]      resolve an incident by hand (ends it; a PagerDuty page is resolved):
                                 whoever took it, members of its escalation groups, or admins
  pause [--reason r]             kill switch: stop all automation (admin)
  resume                         re-enable automation (admin)
  deploy <target> --minutes n    mark an active deployment on a target (admin); --clear removes it
  promote <playbook> <step>      re-promote an auto-demoted step (1-based): it runs without approval again (admin)
  drill <scenario>               chaos drill: inject its fault into a drillable target, watch medic heal it, report TTD/MTTR
  drill schedule <scenario> --cron '0 10 * * 3'   recurring game day (Temporal Schedule; admin)
  drill schedules                drill schedules and their next runs
  report [--since 7d] [--store f] KPIs from the incident store vs the previous period, noisy alert rules, SLOs
  report --weekly                the weekly digest as posted to Slack (MTTR, TTD, auto-resolved %, FP rate, SLOs)
  postmortem <id> [--out f.md]   an incident's postmortem as Markdown (from medic, or --store f)
  token [--user u] [--scopes read,operate,admin] [--expires YYYY-MM-DD]
                                 a new operator API token and the config line with its SHA-256 (medic stores only that)
  token hash < file              the SHA-256 of a token read on stdin (to replace a plain-text token in config)
  audit verify [--checkpoint FILE|URL] [--public-key FILE] [--key-file FILE]
                                 check the audit log: hash chain, MACs (with the audit key), exported signed
                                 checkpoints (rewrite, truncation); names the first bad entry, exits 1
  audit export [--since ISO] [--format jsonl|csv]   audit entries for compliance (stdout; CSV formulas escaped)
  audit public-key [--key-file FILE]   the Ed25519 key auditors verify checkpoints with (PEM)

options:
  --url URL      medic's HTTP address (env MEDIC_URL; the demo writes .medic/cli.json)
  --token T      operator API token (env MEDIC_TOKEN)
  --json         print raw JSON
  -V, --version  print medic's version
  -h, --help     this help`;

interface Connection {
  url: string;
  token: string;
}

class CliError extends Error {}

// Each command's module (and the SDKs it needs: zod schemas, the store, the simulator…) is loaded
// only when that command runs: every `medic` call is its own process, and loading all of them
// cost seconds of CPU per call. A loaded command registers its usage-error classes (exit code 2).
type ErrorClass = abstract new (...args: never[]) => Error;
const usageErrors: ErrorClass[] = [CliError];
async function load<M>(module: Promise<M>, errors: (m: M) => ErrorClass[] = () => []): Promise<M> {
  const m = await module;
  usageErrors.push(...errors(m));
  return m;
}
const formatting = (): Promise<typeof import('./format.js')> => import('./format.js');

function connection(values: { url?: string; token?: string }): Connection {
  let saved: Partial<Connection> = {};
  try {
    saved = JSON.parse(readFileSync(join(process.cwd(), '.medic', 'cli.json'), 'utf8')) as Partial<Connection>;
  } catch {
    // no demo connection file: flags or env must say where medic is
  }
  const url = values.url ?? process.env.MEDIC_URL ?? saved.url;
  const token = values.token ?? process.env.MEDIC_TOKEN ?? saved.token;
  if (!url) throw new CliError('where is medic? pass --url or set MEDIC_URL (or start the demo: npm start)');
  if (!token) throw new CliError('no API token: pass --token or set MEDIC_TOKEN');
  return { url: url.replace(/\/$/, ''), token };
}

/** A non-JSON answer (Markdown), or the API's error. */
async function callText(conn: Connection, path: string): Promise<string> {
  const res = await fetch(`${conn.url}${path}`, { headers: { authorization: `Bearer ${conn.token}` } }).catch((err: Error) => {
    throw new CliError(`cannot reach medic at ${conn.url}: ${String(err.cause ?? err.message)}`);
  });
  const text = await res.text();
  if (res.ok) return text;
  let error = text;
  try {
    error = (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    // not JSON: the text is the error
  }
  throw new CliError(`${res.status}: ${error}`);
}

async function call<T>(conn: Connection, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${conn.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${conn.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new CliError(`cannot reach medic at ${conn.url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as { error?: string }) : {};
  if (!res.ok) throw new CliError(`${res.status}: ${data.error ?? text}`);
  return data as T;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      reason: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
      file: { type: 'string' },
      store: { type: 'string' },
      weekly: { type: 'boolean', default: false },
      prometheus: { type: 'string' },
      out: { type: 'string' },
      step: { type: 'string' },
      minutes: { type: 'string' },
      clear: { type: 'boolean', default: false },
      playbooks: { type: 'string' },
      alerts: { type: 'string' },
      'from-alertmanager': { type: 'string' },
      paused: { type: 'boolean', default: false },
      live: { type: 'boolean', default: false },
      config: { type: 'string' },
      'opa-url': { type: 'string' },
      'opa-bundle': { type: 'string' },
      cron: { type: 'string' },
      checkpoint: { type: 'string' },
      'public-key': { type: 'string' },
      'key-file': { type: 'string' },
      user: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'V', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.version || command === 'version') {
    console.log(`medic ${MEDIC_VERSION}`);
    return 0;
  }
  if (values.help || !command || command === 'help') {
    console.log(HELP);
    return command || values.help ? 0 : 1;
  }
  const print = (data: unknown, human: () => string): void => console.log(values.json ? JSON.stringify(data, null, 2) : human());
  const needId = (): string => {
    if (!args[0]) throw new CliError(`usage: medic ${command} <incident-id>`);
    return encodeURIComponent(args[0]);
  };

  switch (command) {
    case 'validate': {
      const { validateCommand } = await load(import('./validate.js'));
      return validateCommand(args, { log: console.log, error: console.error }); // no paths: ./playbooks
    }
    case 'simulate': {
      const { simulateCommand } = await load(import('./simulate.js'), (m) => [m.SimulateUsageError]);
      await load(import('../simulate/alerts.js'), (m) => [m.AlertsInputError]);
      return simulateCommand(values, { log: console.log, error: console.error }, () => call(connection(values), 'GET', '/api/governor'));
    }
    case 'incidents': {
      const conn = connection(values);
      const { formatSummary } = await formatting();
      const data = await call<{ incidents: SummaryRow[] }>(conn, 'GET', `/api/incidents${values.all ? '?all=true' : ''}`);
      print(data, () => formatSummary(data.incidents));
      return 0;
    }
    case 'status': {
      const conn = connection(values);
      const { formatIncident, formatSummary } = await formatting();
      if (args[0]) {
        const data = await call<IncidentDetail>(conn, 'GET', `/api/incidents/${needId()}`);
        print(data, () => formatIncident(data));
      } else {
        const [gov, list] = await Promise.all([
          call<{ pause: { paused: boolean; by?: string; reason?: string }; demotedSteps?: { playbook: string; step: number; stepName: string; reason: string }[] }>(conn, 'GET', '/api/governor'),
          call<{ incidents: SummaryRow[] }>(conn, 'GET', '/api/incidents'),
        ]);
        print({ governor: gov, incidents: list.incidents }, () => {
          const p = gov.pause;
          const ks = p.paused ? `PAUSED by ${p.by ?? '?'}${p.reason ? ` (${p.reason})` : ''}` : 'automation enabled';
          const demoted = (gov.demotedSteps ?? []).map((d) => `  ${d.playbook} step ${d.step + 1} (${d.stepName}): ${d.reason} — medic promote ${d.playbook} ${d.step + 1}`);
          const dm = demoted.length ? `auto-demoted steps (need approval):\n${demoted.join('\n')}\n` : '';
          return `kill switch: ${ks}\n${dm}${formatSummary(list.incidents)}`;
        });
      }
      return 0;
    }
    case 'approve':
    case 'deny': {
      const conn = connection(values);
      if (command === 'deny' && !values.reason) throw new CliError('deny needs --reason "…" (it goes into the timeline and audit)');
      const body = { ...(values.reason ? { reason: values.reason } : {}), ...(values.step ? { step: Number(values.step) - 1 } : {}) };
      const data = await call<DecisionResult>(conn, 'POST', `/api/incidents/${needId()}/${command}`, body);
      print(data, () => {
        const who = (data.approvals ?? [data.by]).join(' and ');
        // Four-eyes: the first approval is partial; a different approver must approve too.
        if (data.complete === false) return `step ${data.step + 1}: approval ${data.approvals?.length ?? 1} of ${data.needed ?? 2} recorded (${who}); four-eyes: a different approver must approve too`;
        return `step ${data.step + 1} ${data.decision === 'approve' ? 'approved' : 'denied'} by ${data.decision === 'approve' ? who : data.by}`;
      });
      return 0;
    }
    case 'take': {
      const conn = connection(values);
      const data = await call<{ by: string; rung: number }>(conn, 'POST', `/api/incidents/${needId()}/take`, {});
      print(data, () => `${args[0]} taken by ${data.by}: the escalation ladder stops here`);
      return 0;
    }
    case 'resolve': {
      const conn = connection(values);
      const data = await call<{ by: string; at: number }>(conn, 'POST', `/api/incidents/${needId()}/resolve`, values.reason ? { reason: values.reason } : {});
      print(data, () => `${args[0]} resolved by ${data.by}`);
      return 0;
    }
    case 'pause':
    case 'resume': {
      const conn = connection(values);
      const data = await call<{ paused: boolean; by: string }>(conn, 'POST', `/api/${command}`, values.reason ? { reason: values.reason } : {});
      print(data, () => (data.paused ? `automation PAUSED by ${data.by}` : `automation resumed by ${data.by}`));
      return 0;
    }
    case 'deploy': {
      const conn = connection(values);
      if (!args[0]) throw new CliError('usage: medic deploy <target> --minutes n | --clear');
      const minutes = values.clear ? null : Number(values.minutes);
      if (minutes !== null && !(minutes > 0)) throw new CliError('--minutes must be a positive number (or use --clear)');
      const data = await call<{ target: string; until: string | null }>(conn, 'POST', '/api/deployments', { target: args[0], minutes });
      print(data, () => (data.until ? `deployment marked on ${data.target} until ${data.until}` : `deployment marker cleared on ${data.target}`));
      return 0;
    }
    case 'promote': {
      const conn = connection(values);
      const step = Number(args[1]);
      if (!args[0] || !Number.isInteger(step) || step < 1) throw new CliError('usage: medic promote <playbook> <step>   (step numbered from 1)');
      const data = await call<{ playbook: string; step: number; stepName: string; wasDemoted: boolean; by: string }>(
        conn,
        'POST',
        `/api/playbooks/${encodeURIComponent(args[0])}/steps/${step - 1}/promote`,
        {},
      );
      print(data, () => `${data.playbook} step ${data.step + 1} (${data.stepName}) ${data.wasDemoted ? 're-promoted' : 'was not demoted; history reset'} by ${data.by}: it runs without approval again`);
      return 0;
    }
    case 'postmortem': {
      const id = needId();
      const { emitPostmortem, postmortemFromStore } = await load(import('./postmortem.js'), (m) => [m.PostmortemUsageError]);
      const md = values.store ? await postmortemFromStore(args[0]!, values.store) : await callText(connection(values), `/api/incidents/${id}/postmortem`);
      return emitPostmortem(md, values.out, { out: (t) => process.stdout.write(t), err: console.error });
    }
    case 'report': {
      const { reportCommand } = await load(import('./report.js'), (m) => [m.ReportUsageError]);
      return reportCommand(values, { out: (t) => process.stdout.write(t) });
    }
    case 'token': {
      const { readStdin, tokenCommand } = await load(import('./token.js'), (m) => [m.TokenUsageError]);
      return tokenCommand(args, values, { out: (t) => process.stdout.write(t), stdin: readStdin });
    }
    case 'audit': {
      const { auditCommand } = await load(import('./audit.js'), (m) => [m.AuditUsageError]);
      return auditCommand(args, values, { out: (t) => process.stdout.write(t), err: console.error });
    }
    case 'drill': {
      const conn = connection(values);
      const { drillCommand } = await load(import('./drill.js'), (m) => [m.DrillUsageError]);
      return drillCommand(args, values, (method, path, body) => call(conn, method, path, body), console.log);
    }
    default:
      throw new CliError(`unknown command "${command}" (see medic --help)`);
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`medic: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(usageErrors.some((c) => err instanceof c) || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
  });
