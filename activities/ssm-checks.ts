// What the ssm activities check with AWS before they send anything: every rendered parameter
// against the document's declared allowedPattern/allowedValues (GetDocument), and each instance's
// tags against allow.ssm.instanceTags (EC2 DescribeTags for i-…, SSM ListTagsForResource for
// mi-…). A violation is a non-retryable SsmRefused failure naming field, value and rule.
import { ApplicationFailure } from '@temporalio/activity';
import { GetDocumentCommand, ListTagsForResourceCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { DescribeTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { SsmAllow } from '../src/playbooks/allow-ssm.js';
import {
  documentParameterProblem,
  instancesOf,
  ssmInputProblem,
  tagProblem,
  type DocumentParameter,
  type SsmGuardInput,
} from '../src/playbooks/ssm-guard.js';

export interface CheckedDocument {
  name: string;
  /** The version read, sent along so SSM runs exactly what was checked. */
  version?: string;
}

export interface SsmCheckInput extends SsmGuardInput {
  documentVersion?: string;
  /** Parameters whose value came from a template. */
  templated?: string[];
  allow?: SsmAllow;
}

type Call = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

export const refusal = (problem: string): ApplicationFailure =>
  ApplicationFailure.create({ type: 'SsmRefused', nonRetryable: true, message: `refused: ${problem}`, details: [{ refused: problem }] });

/** The document's parameter declarations, from its content read as JSON. */
function declaredParameters(content: string | undefined): Record<string, DocumentParameter> {
  try {
    const doc = JSON.parse(content ?? '{}') as { parameters?: Record<string, DocumentParameter> };
    return doc.parameters ?? {};
  } catch {
    throw refusal('the document content is not JSON medic can read, so its parameters cannot be checked');
  }
}

async function tagsOf(ids: string[], deps: { ssm: SSMClient; ec2?: EC2Client | undefined }, call: Call): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
  const ec2Ids = ids.filter((id) => id.startsWith('i-'));
  if (ec2Ids.length > 0) {
    if (!deps.ec2) throw refusal('allow.ssm.instanceTags needs the EC2 API to read instance tags, and no EC2 client is configured');
    const ec2 = deps.ec2;
    let NextToken: string | undefined;
    do {
      const page = await call('EC2 DescribeTags', () =>
        ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: ec2Ids }], ...(NextToken ? { NextToken } : {}) })),
      );
      for (const t of page.Tags ?? []) if (t.ResourceId && t.Key !== undefined) out.get(t.ResourceId)![t.Key] = t.Value ?? '';
      NextToken = page.NextToken;
    } while (NextToken);
  }
  for (const id of ids.filter((x) => x.startsWith('mi-'))) {
    const res = await call('ListTagsForResource', () => deps.ssm.send(new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id })));
    for (const t of res.TagList ?? []) if (t.Key !== undefined) out.get(id)![t.Key] = t.Value ?? '';
  }
  return out;
}

/** Refuses (throws SsmRefused) unless the rendered input is inside the document's declared
 * patterns and the playbook's allow-list; returns the document version that was checked. */
export async function checkSsmInput(input: SsmCheckInput, deps: { ssm: SSMClient; ec2?: EC2Client | undefined }, call: Call): Promise<CheckedDocument> {
  const pure = ssmInputProblem(input);
  if (pure) throw refusal(pure);
  const doc = await call('GetDocument', () =>
    deps.ssm.send(
      new GetDocumentCommand({ Name: input.documentName, DocumentFormat: 'JSON', ...(input.documentVersion ? { DocumentVersion: input.documentVersion } : {}) }),
    ),
  );
  const declared = declaredParameters(doc.Content);
  const templated = new Set(input.templated ?? []);
  for (const [name, values] of Object.entries(input.parameters)) {
    const problem = documentParameterProblem(input.documentName, name, values, Object.hasOwn(declared, name) ? declared[name] : undefined, templated.has(name));
    if (problem) throw refusal(problem);
  }
  if (input.allow?.instanceTags) {
    const ids = instancesOf(input);
    const tags = await tagsOf(ids, deps, call);
    for (const id of ids) {
      const problem = tagProblem(id, tags.get(id) ?? {}, input.allow);
      if (problem) throw refusal(problem);
    }
  }
  return { name: input.documentName, ...(doc.DocumentVersion ? { version: doc.DocumentVersion } : {}) };
}
