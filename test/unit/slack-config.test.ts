// The optional `slack` config section: absent means no Slack; env vars fill it; bad values are listed.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { slackSinkDeps } from '../../src/slack/client.js';

describe('slack config', () => {
  it('is absent by default: medic runs without Slack', () => {
    const c = loadConfig({});
    expect(c.slack).toBeUndefined();
    expect(slackSinkDeps(c)).toBeUndefined();
  });

  it('comes from MEDIC_SLACK_* env vars', () => {
    const c = loadConfig({
      MEDIC_SLACK_BOT_TOKEN: 'xoxb-1',
      MEDIC_SLACK_SIGNING_SECRET: 'a-signing-secret-of-32-characters',
      MEDIC_SLACK_CHANNEL: 'C0INCIDENT',
      MEDIC_SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      MEDIC_SLACK_ADMINS: 'U0ROOT, @sre-admins',
    });
    expect(c.slack).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 'a-signing-secret-of-32-characters',
      channel: 'C0INCIDENT',
      apiUrl: 'http://127.0.0.1:9999/api/',
      admins: ['U0ROOT', '@sre-admins'],
      verbosity: 'full', // the default: every entry its own thread reply
    });
    expect(slackSinkDeps(c)).toMatchObject({ channel: 'C0INCIDENT', temporalUiUrl: 'http://localhost:8233', namespace: 'default' });
  });

  it('lists every problem when the section is incomplete', () => {
    try {
      loadConfig({ MEDIC_SLACK_BOT_TOKEN: 'xoxb-1', MEDIC_SLACK_SIGNING_SECRET: 'short' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('slack.signingSecret');
      expect(problems).toContain('slack.channel');
    }
  });
});
