// The identity key tests share between the app (server, Slack) and the worker, and helpers that
// send decide/take/resolve Updates signed as medic's app would (src/identity/sign.ts), for tests
// that talk to a workflow directly through the Temporal client.
import type { Client } from '@temporalio/client';
import { signIdentity } from '../../src/identity/sign.js';
import {
  decideUpdate,
  resolveUpdate,
  statusQuery,
  takeUpdate,
  type DecisionInput,
  type DecisionResult,
  type ResolveInput,
  type ResolveResult,
  type TakeInput,
  type TakeResult,
} from '../../workflows/contracts.js';

/** Config `identityKey` of test servers; the worker gets the same bytes. */
export const TEST_IDENTITY_KEY_TEXT = 'medic-test-identity-key-0123456789abcdef';
export const TEST_IDENTITY_KEY = Buffer.from(TEST_IDENTITY_KEY_TEXT, 'utf8');

async function incidentIdOf(client: Client, workflowId: string): Promise<string> {
  return (await client.workflow.getHandle(workflowId).query(statusQuery)).incidentId;
}

/** Updates signed with the test key, as the app sends them. */
export function signedUpdates(client: Client) {
  return {
    async decide(workflowId: string, input: DecisionInput): Promise<DecisionResult> {
      const args = [signIdentity(TEST_IDENTITY_KEY, 'decide', await incidentIdOf(client, workflowId), input)] as [DecisionInput];
      return client.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args });
    },
    async take(workflowId: string, input: TakeInput): Promise<TakeResult> {
      const args = [signIdentity(TEST_IDENTITY_KEY, 'take', await incidentIdOf(client, workflowId), input)] as [TakeInput];
      return client.workflow.getHandle(workflowId).executeUpdate(takeUpdate, { args });
    },
    async resolve(workflowId: string, input: ResolveInput): Promise<ResolveResult> {
      const args = [signIdentity(TEST_IDENTITY_KEY, 'resolve', await incidentIdOf(client, workflowId), input)] as [ResolveInput];
      return client.workflow.getHandle(workflowId).executeUpdate(resolveUpdate, { args });
    },
  };
}
