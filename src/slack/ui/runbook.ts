// The /medic run modal: one input per runbook parameter, prefilled with what was typed.
import type { types } from '@slack/bolt';
import type { Runbook } from '../../runbooks/schema.js';
import { esc } from './escape.js';

export const RUN_VIEW = 'run_runbook';
export const PARAM_ACTION = 'value';

export function runModal(rb: Runbook, given: Record<string, string>, channel: string): types.ModalView {
  const blocks: types.ModalView['blocks'] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${esc(rb.name)}*${rb.description ? `\n${esc(rb.description)}` : ''}` } },
  ];
  for (const [name, p] of Object.entries(rb.params)) {
    const initial = given[name] ?? p.default;
    const hint = [p.description, p.type !== 'string' ? p.type : '', p.enum ? `one of ${p.enum.join(', ')}` : '', p.pattern ? `matches ${p.pattern}` : '']
      .filter(Boolean)
      .join(' · ');
    blocks.push({
      type: 'input',
      block_id: name,
      optional: !p.required || p.default !== undefined,
      label: { type: 'plain_text', text: name },
      element: { type: 'plain_text_input', action_id: PARAM_ACTION, ...(initial !== undefined ? { initial_value: initial } : {}) },
      ...(hint ? { hint: { type: 'plain_text', text: hint.slice(0, 2000) } } : {}),
    });
  }
  return {
    type: 'modal',
    callback_id: RUN_VIEW,
    private_metadata: JSON.stringify({ runbook: rb.name, channel }),
    title: { type: 'plain_text', text: 'Run runbook' },
    submit: { type: 'plain_text', text: 'Run' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
