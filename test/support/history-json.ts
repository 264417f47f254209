// Workflow histories to and from JSON for the replay-safety test. Temporal's own historyToJSON /
// historyFromJSON (@temporalio/common/lib/proto-utils) fail in this install with "type must be a
// Type": @temporalio/common and @temporalio/proto each carry their own copy of protobufjs 8, and
// protojson checks `instanceof` across the two. The generated History class round-trips exactly.
import proto from '@temporalio/proto'; // CommonJS: the namespace is on the default export
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
const HistoryMessage = proto.temporal.api.history.v1.History;

/** Plain JSON: camelCase fields, enum names, int64 as strings, bytes as base64. */
export function historyToPlainJSON(history: History): unknown {
  return HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String });
}

export function historyFromPlainJSON(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('not a history: expected an object with an events array');
  }
  return HistoryMessage.fromObject(json as Record<string, unknown>);
}
