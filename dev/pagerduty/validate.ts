// PagerDuty Events API v2 payload rules, as the real endpoint applies them (400 "invalid event"
// with a list of errors): routing_key 32 characters, event_action trigger|acknowledge|resolve,
// dedup_key at most 255 and required for acknowledge/resolve, and for triggers a payload with
// summary (≤1024), source and severity (critical|error|warning|info). links/images are lists of
// objects with href / src (images over https).
export const ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const MAX_EVENT_BYTES = 512 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const blank = (v: unknown): boolean => typeof v !== 'string' || v.trim() === '';

export function validateEvent(body: unknown): string[] {
  if (!isObject(body)) return ['Event object is not a JSON object'];
  const errors: string[] = [];
  const action = body.event_action;
  if (blank(body.routing_key)) errors.push("'routing_key' is missing or blank");
  else if ((body.routing_key as string).length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (blank(action)) errors.push("'event_action' is missing or blank");
  else if (!(ACTIONS as readonly unknown[]).includes(action)) errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
  if (body.dedup_key !== undefined) {
    if (typeof body.dedup_key !== 'string') errors.push("'dedup_key' must be a string");
    else if (body.dedup_key.length > 255) errors.push("Length of 'dedup_key' is too long (maximum is 255 characters)");
  }
  if ((action === 'acknowledge' || action === 'resolve') && blank(body.dedup_key)) errors.push("'dedup_key' is missing or blank");
  if (action === 'trigger') errors.push(...validatePayload(body.payload));
  errors.push(...validateList(body.links, 'links', 'href'), ...validateList(body.images, 'images', 'src'));
  return errors;
}

function validatePayload(p: unknown): string[] {
  if (!isObject(p)) return ["'payload' is missing or not an object"];
  const errors: string[] = [];
  if (blank(p.summary)) errors.push("'payload.summary' is missing or blank");
  else if ((p.summary as string).length > 1024) errors.push("Length of 'payload.summary' is too long (maximum is 1024 characters)");
  if (blank(p.source)) errors.push("'payload.source' is missing or blank");
  if (blank(p.severity)) errors.push("'payload.severity' is missing or blank");
  else if (!(SEVERITIES as readonly unknown[]).includes(p.severity)) {
    errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)");
  }
  if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))) {
    errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
  }
  for (const f of ['component', 'group', 'class'] as const) {
    if (p[f] !== undefined && typeof p[f] !== 'string') errors.push(`'payload.${f}' must be a string`);
  }
  if (p.custom_details !== undefined && !isObject(p.custom_details) && typeof p.custom_details !== 'string') {
    errors.push("'payload.custom_details' must be an object");
  }
  return errors;
}

function validateList(v: unknown, name: string, field: 'href' | 'src'): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return [`'${name}' must be an array`];
  const errors: string[] = [];
  v.forEach((item, i) => {
    if (!isObject(item) || blank(item[field])) errors.push(`'${name}[${i}].${field}' is missing or blank`);
    else if (field === 'src' && !(item.src as string).startsWith('https://')) errors.push(`'images[${i}].src' must be served over https`);
  });
  return errors;
}
