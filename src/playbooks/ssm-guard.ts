// Checks of rendered SSM values (alert data is hostile: docs/architecture.md). Pure: the workflow
// runs them before it schedules an ssm activity, and the activity runs them again (with what only
// AWS knows: the document's allowedPattern, the instance's tags) before it sends anything.
// Every problem names the field, the value (truncated) and the rule.
import type { SsmAllow } from './allow-ssm.js';

export const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
/** Parameters that name the instance an automation or command acts on. */
export const INSTANCE_PARAMETER = /^instance_?ids?$/i;

/** A medic template ({{labels.x}}); SSM's own {{ssm:…}} / {{resolve:…}} references are not. */
export const MEDIC_TEMPLATE = /\{\{(?!\s*(?:ssm|ssm-secure|resolve):)[^}]*\}\}/;
export const isTemplated = (v: string | string[]): boolean => (Array.isArray(v) ? v : [v]).some((x) => MEDIC_TEMPLATE.test(x));

/** A value shown in a refusal: one line, at most 40 characters. */
export function shown(value: string): string {
  const one = JSON.stringify(value).slice(1, -1).replace(/`/g, "'");
  return one.length > 40 ? `${one.slice(0, 39)}…` : one;
}

/** An exact value, or "~regex" matching the whole value. */
export function matchesPattern(pattern: string, value: string): boolean {
  if (!pattern.startsWith('~')) return pattern === value;
  try {
    return new RegExp(`^(?:${pattern.slice(1)})$`).test(value);
  } catch {
    return false;
  }
}

export interface SsmGuardInput {
  documentName: string;
  parameters: Record<string, string[]>;
  instanceIds?: string[];
  targets?: { key: string; values: string[] }[];
  allow?: SsmAllow | undefined;
}

/** Every instance id the input names: instanceIds, InstanceIds targets, InstanceId(s) parameters. */
export function instancesOf(input: SsmGuardInput): string[] {
  const ids = [
    ...(input.instanceIds ?? []),
    ...(input.targets ?? []).filter((t) => t.key === 'InstanceIds').flatMap((t) => t.values),
    ...Object.entries(input.parameters).flatMap(([k, v]) => (INSTANCE_PARAMETER.test(k) ? v.flatMap((x) => x.split(',')).map((x) => x.trim()) : [])),
  ];
  return [...new Set(ids)];
}

function instanceProblem(id: string, allow: SsmAllow | undefined): string | undefined {
  if (!INSTANCE_ID.test(id)) return `instance id \`${shown(id)}\` does not match \`${INSTANCE_ID.source}\``;
  const ids = allow?.instanceIds;
  if (ids && !ids.some((p) => matchesPattern(p, id))) return `instance \`${id}\` is not in allow.ssm.instanceIds (${ids.join(', ')})`;
  return undefined;
}

function targetProblem(t: { key: string; values: string[] }, allow: SsmAllow | undefined): string | undefined {
  if (t.key === 'InstanceIds' || !allow) return undefined;
  const tags = allow.instanceTags;
  if (!t.key.startsWith('tag:')) return `target key \`${shown(t.key)}\` cannot be checked against allow.ssm (use tag:<key> or InstanceIds)`;
  const wanted = tags?.[t.key.slice(4)];
  if (!tags) return `target \`${shown(t.key)}\` needs allow.ssm.instanceTags (instance ids cannot be checked before SSM resolves tags)`;
  if (!wanted) return undefined; // narrowed by the allow-listed tags, which the activity adds as targets
  const bad = t.values.find((v) => !wanted.includes(v));
  return bad === undefined ? undefined : `target \`${t.key}\` value \`${shown(bad)}\` is not in allow.ssm.instanceTags.${t.key.slice(4)} (${wanted.join(', ')})`;
}

function allowedParameterProblem(name: string, values: string[], allow: SsmAllow | undefined): string | undefined {
  const patterns = allow?.parameters?.[name];
  if (!patterns) return undefined;
  const bad = values.find((v) => !patterns.some((p) => matchesPattern(p, v)));
  return bad === undefined ? undefined : `parameter \`${name}\` value \`${shown(bad)}\` is not in allow.ssm.parameters.${name} (${patterns.join(', ')})`;
}

/** What is wrong with the rendered input before any AWS call, or undefined. */
export function ssmInputProblem(input: SsmGuardInput): string | undefined {
  for (const id of instancesOf(input)) {
    const p = instanceProblem(id, input.allow);
    if (p) return p;
  }
  for (const t of input.targets ?? []) {
    const p = targetProblem(t, input.allow);
    if (p) return p;
  }
  for (const [name, values] of Object.entries(input.parameters)) {
    const p = allowedParameterProblem(name, values, input.allow);
    if (p) return p;
  }
  return undefined;
}

/** Tags the activity adds as extra (ANDed) tag targets, so SSM itself stays inside the allow-list. */
export function allowTargets(targets: { key: string; values: string[] }[], allow: SsmAllow | undefined): { key: string; values: string[] }[] {
  if (targets.length === 0 || !allow?.instanceTags) return targets;
  const have = new Set(targets.map((t) => t.key));
  const extra = Object.entries(allow.instanceTags)
    .filter(([k]) => !have.has(`tag:${k}`))
    .map(([k, values]) => ({ key: `tag:${k}`, values }));
  return [...targets, ...extra];
}

/** Why an instance with these tags is outside allow.ssm.instanceTags, or undefined. */
export function tagProblem(instanceId: string, tags: Record<string, string>, allow: SsmAllow | undefined): string | undefined {
  for (const [key, values] of Object.entries(allow?.instanceTags ?? {})) {
    const has = tags[key];
    if (has === undefined || !values.includes(has)) {
      return `instance \`${instanceId}\` is not allow-listed: tag \`${key}\` is ${has === undefined ? 'missing' : `\`${shown(has)}\``}, allow.ssm.instanceTags.${key} wants ${values.join(' or ')}`;
    }
  }
  return undefined;
}

/** A document's declared parameter (from its content). */
export interface DocumentParameter {
  type?: string;
  allowedPattern?: string;
  allowedValues?: string[];
}

/** Checks one rendered parameter against the document's declaration (the SSM service checks it
 * too, but medic refuses before sending, also where SSM would not). */
export function documentParameterProblem(
  document: string,
  name: string,
  values: string[],
  declared: DocumentParameter | undefined,
  templated: boolean,
): string | undefined {
  if (!declared) return `document ${document} has no parameter \`${shown(name)}\``;
  if (declared.allowedPattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(declared.allowedPattern);
    } catch {
      return `parameter \`${name}\`: the allowedPattern \`${declared.allowedPattern}\` of document ${document} is not a regular expression medic can check`;
    }
    const bad = values.find((v) => !re.test(v));
    if (bad !== undefined) return `parameter \`${name}\` value \`${shown(bad)}\` does not match \`${declared.allowedPattern}\` (document ${document})`;
  }
  if (declared.allowedValues !== undefined) {
    const bad = values.find((v) => !declared.allowedValues!.includes(v));
    if (bad !== undefined) return `parameter \`${name}\` value \`${shown(bad)}\` is not one of ${declared.allowedValues.join(', ')} (document ${document})`;
  }
  if (templated && declared.allowedPattern === undefined && declared.allowedValues === undefined) {
    return `parameter \`${name}\` takes a value from alert data, but document ${document} declares no allowedPattern for it`;
  }
  return undefined;
}
