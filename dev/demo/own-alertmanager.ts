// For a user who points their own Alertmanager at the demo: the intake token in a private file
// and a receiver to paste into alertmanager.yml that reads it (credentials_file, so the token
// never sits in their config), rewritten at every start (the token and port change).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface OwnAlertmanager {
  webhookUrl: string;
  tokenFile: string;
  receiverFile: string;
}

export async function writeOwnAlertmanagerFiles(dir: string, medicUrl: string, token: string): Promise<OwnAlertmanager> {
  const webhookUrl = `${medicUrl}/webhooks/alertmanager`;
  const tokenFile = join(dir, 'intake.token');
  const receiverFile = join(dir, 'alertmanager-receiver.yml');
  await writeFile(tokenFile, token, { mode: 0o600 });
  const receiver = {
    receivers: [
      {
        name: 'medic-demo',
        webhook_configs: [{ url: webhookUrl, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } } }],
      },
    ],
  };
  await writeFile(receiverFile, `# medic demo intake (written by npm start; Alertmanager >= 0.22)\n${stringify(receiver)}`);
  return { webhookUrl, tokenFile, receiverFile };
}
