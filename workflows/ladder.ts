// The take and resolve Updates' validators: a malformed or refused input throws, so nothing
// reaches history. The ladder itself runs in the decision core (src/incident/escalation.ts).
import { refuseResolve, refuseTake } from '../src/incident/ladder.js';
import { ResolveInputSchema, TakeInputSchema, type IncidentState } from './contracts.js';

const issues = (e: { issues: { message: string }[] }): string => e.issues.map((i) => i.message).join('; ');

export function validateTake(s: IncidentState, raw: unknown): void {
  const t = TakeInputSchema.safeParse(raw);
  if (!t.success) throw new Error(`invalid take: ${issues(t.error)}`);
  const why = refuseTake(s, t.data);
  if (why) throw new Error(why);
}

export function validateResolve(s: IncidentState, raw: unknown): void {
  const r = ResolveInputSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid resolve: ${issues(r.error)}`);
  const why = refuseResolve(s);
  if (why) throw new Error(why);
}
