// The operator API's side of the gates on a real medic (Temporal dev server, worker, HTTP
// server): only admins may pull the kill switch or mark a deployment, and what they set is the
// governor's state. What each gate and the kill switch do to an incident is proven on the
// time-skipping server in test/workflow/phases.test.ts (maintenance windows:
// test/workflow/maintenance-window.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { governorStateQuery, governorWorkflowId } from '../../workflows/contracts.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';

let m: Medic;
beforeAll(async () => {
  m = await startMedic();
});
afterAll(() => m?.stop());

const governorState = () => m.env.client.workflow.getHandle(governorWorkflowId(m.config.temporal.taskQueue)).query(governorStateQuery);

describe('deployment markers', () => {
  it('only admins may set one; it lands in the governor with who set it', async () => {
    expect((await m.api('POST', '/api/deployments', TOKENS.alice, { target: 'marked', minutes: 30 })).status).toBe(403);
    expect((await m.api('POST', '/api/deployments', TOKENS.admin, { target: 'marked', minutes: 30 })).status).toBe(200);
    const marker = (await governorState()).deployments['marked'];
    expect(marker).toMatchObject({ by: 'root' });
    expect(marker!.until).toBeGreaterThan(Date.now() + 29 * 60_000);
  });
});

describe('kill switch', () => {
  it('only admins may pause', async () => {
    const res = await m.api('POST', '/api/pause', TOKENS.alice, { reason: 'x' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'alice is not an admin: this needs the admin scope (the token has read, operate)', missingScope: 'admin' });
  });

  it('an admin pauses and resumes: the governor holds who and why', async () => {
    expect((await m.api('POST', '/api/pause', TOKENS.admin, { reason: 'bad rollout' })).status).toBe(200);
    expect((await governorState()).pause).toMatchObject({ paused: true, by: 'root', reason: 'bad rollout' });
    expect((await m.api('POST', '/api/resume', TOKENS.admin, {})).status).toBe(200);
    expect((await governorState()).pause).toMatchObject({ paused: false });
  });
});
