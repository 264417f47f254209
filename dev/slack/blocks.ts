// Shape checks the stand-in applies like Slack does, so a message medic builds that real Slack
// would refuse fails here too (with Slack's error code) instead of only in production.

/** Block types Slack accepts in messages and views (input only in modals/App Home). */
const MESSAGE_BLOCKS = new Set(['section', 'divider', 'header', 'context', 'actions', 'image', 'rich_text', 'file', 'video', 'markdown']);
const VIEW_BLOCKS = new Set([...MESSAGE_BLOCKS, 'input']);
const ELEMENTS = new Set([
  'button',
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_users_select',
  'overflow',
  'datepicker',
  'timepicker',
  'checkboxes',
  'radio_buttons',
  'plain_text_input',
  'number_input',
  'email_text_input',
  'url_text_input',
  'image',
]);

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  headerText: 150,
  actionsElements: 25,
  contextElements: 10,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  messageText: 40_000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function textProblem(t: unknown, where: string, max: number, plainOnly = false): string | undefined {
  if (!isObj(t)) return `${where} must be a text object`;
  if (t.type !== 'plain_text' && t.type !== 'mrkdwn') return `${where}.type must be plain_text or mrkdwn`;
  if (plainOnly && t.type !== 'plain_text') return `${where} must be plain_text`;
  if (typeof t.text !== 'string' || t.text.length === 0) return `${where}.text must be a non-empty string`;
  if (t.text.length > max) return `${where}.text must be at most ${max} characters`;
  return undefined;
}

function elementProblem(e: unknown, where: string): string | undefined {
  if (!isObj(e) || typeof e.type !== 'string') return `${where} must be an element with a type`;
  if (!ELEMENTS.has(e.type)) return `${where}: unknown element type ${e.type}`;
  if (e.action_id !== undefined && (typeof e.action_id !== 'string' || e.action_id.length > LIMITS.actionId)) {
    return `${where}.action_id must be a string of at most ${LIMITS.actionId} characters`;
  }
  if (e.type === 'button') {
    const p = textProblem(e.text, `${where}.text`, LIMITS.buttonText, true);
    if (p) return p;
    if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > LIMITS.buttonValue)) {
      return `${where}.value must be at most ${LIMITS.buttonValue} characters`;
    }
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return `${where}.style must be primary or danger`;
  }
  return undefined;
}

/** The first problem with a blocks array, or undefined; `surface` decides which types and limits apply. */
export function blocksProblem(blocks: unknown, surface: 'message' | 'view'): string | undefined {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  const max = surface === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > max) return `no more than ${max} items allowed`;
  const allowed = surface === 'message' ? MESSAGE_BLOCKS : VIEW_BLOCKS;
  const ids = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const where = `[${i}]`;
    if (!isObj(b) || typeof b.type !== 'string') return `${where} must be a block with a type`;
    if (!allowed.has(b.type)) return `${where}: unsupported type: ${b.type}`;
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255) return `${where}.block_id must be at most 255 characters`;
      if (ids.has(b.block_id)) return `${where}.block_id ${b.block_id} is duplicated`;
      ids.add(b.block_id);
    }
    let p: string | undefined;
    switch (b.type) {
      case 'section':
        if (b.text === undefined && b.fields === undefined) return `${where}: section needs text or fields`;
        if (b.text !== undefined) p = textProblem(b.text, `${where}.text`, LIMITS.sectionText);
        if (!p && b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) return `${where}.fields: at most 10 fields`;
          for (const [j, f] of b.fields.entries()) p ??= textProblem(f, `${where}.fields[${j}]`, 2000);
        }
        if (!p && b.accessory !== undefined) p = elementProblem(b.accessory, `${where}.accessory`);
        break;
      case 'header':
        p = textProblem(b.text, `${where}.text`, LIMITS.headerText, true);
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.contextElements) {
          return `${where}.elements: between 1 and ${LIMITS.contextElements} elements`;
        }
        for (const [j, e] of b.elements.entries()) {
          if (isObj(e) && e.type === 'image') continue;
          p ??= textProblem(e, `${where}.elements[${j}]`, LIMITS.sectionText);
        }
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.actionsElements) {
          return `${where}.elements: between 1 and ${LIMITS.actionsElements} elements`;
        }
        for (const [j, e] of b.elements.entries()) p ??= elementProblem(e, `${where}.elements[${j}]`);
        break;
      case 'input':
        p = textProblem(b.label, `${where}.label`, 2000, true) ?? elementProblem(b.element, `${where}.element`);
        break;
    }
    if (p) return p;
  }
  return undefined;
}

/** A view (modal or home) as views.open/update/publish check it. */
export function viewProblem(view: unknown): string | undefined {
  if (!isObj(view)) return 'view must be an object';
  if (view.type !== 'modal' && view.type !== 'home') return 'view.type must be modal or home';
  if (view.type === 'modal') {
    const p = textProblem(view.title, 'view.title', 24, true);
    if (p) return p;
    for (const k of ['submit', 'close'] as const) {
      if (view[k] !== undefined) {
        const q = textProblem(view[k], `view.${k}`, 24, true);
        if (q) return q;
      }
    }
    if (Array.isArray(view.blocks) && view.blocks.some((b) => isObj(b) && b.type === 'input') && view.submit === undefined) {
      return 'view.submit is required when the view has input blocks';
    }
  }
  if (view.private_metadata !== undefined && (typeof view.private_metadata !== 'string' || view.private_metadata.length > 3000)) {
    return 'view.private_metadata must be at most 3000 characters';
  }
  const p = blocksProblem(view.blocks, 'view');
  return p ? `view.blocks${p}` : undefined;
}
