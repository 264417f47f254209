import { entry, TimelineEntrySchema, type TimelineEntry, type EntryOf } from '../workflows/timeline.js';
const e = entry.actionSucceeded({ message: 'x', step: 1, data: { dryRun: false, output: {} } });
const t: TimelineEntry = TimelineEntrySchema.parse({ seq: 0, at: 1, kind: 'lock.acquired', message: 'm', data: { target: 't' } });
function f(x: TimelineEntry): string { switch (x.kind) { case 'action.started': return x.data.idempotencyKey + x.step; default: return x.message; } }
const a: EntryOf<'gate.passed'>['step'] = 1;
void e; void t; void f; void a;
