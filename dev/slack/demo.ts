// The embedded demo's Slack: the stand-in with a workspace of demo users, and the `slack`
// config section that points medic at it. Random token and signing secret per run.
import { randomBytes } from 'node:crypto';
import { startSlackStandIn, type SlackStandIn } from './server.js';

export const DEMO_SLACK_USERS = [
  { id: 'U0DEMOYOU', name: 'you', real_name: 'You (on call)' },
  { id: 'U0DEMOSAM', name: 'sam', real_name: 'Sam (SRE lead, admin)' },
  { id: 'U0DEMOKIM', name: 'kim', real_name: 'Kim (on call)' },
  { id: 'U0DEMOVIS', name: 'visitor', real_name: 'A visitor (may not approve)' },
];

export async function startDemoSlack(port: number): Promise<{
  standIn: SlackStandIn;
  config: { botToken: string; signingSecret: string; channel: string; apiUrl: string; admins: string[] };
}> {
  const botToken = `xoxb-demo-${randomBytes(12).toString('hex')}`;
  const standIn = await startSlackStandIn({
    botToken,
    port,
    channels: [{ id: 'C0INCIDENT', name: 'incidents' }],
    users: DEMO_SLACK_USERS,
    // Three on call: a four-eyes runbook started by one needs two others to approve it.
    usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0DEMOYOU', 'U0DEMOSAM', 'U0DEMOKIM'] }],
  });
  return {
    standIn,
    config: { botToken, signingSecret: randomBytes(24).toString('hex'), channel: 'C0INCIDENT', apiUrl: standIn.apiUrl, admins: ['U0DEMOSAM'] },
  };
}
