// What a postmortem is written from: the incident, its timeline and step tries from the store.
import { formatDuration } from '../report/report.js';
import type { TimelineEntry } from '../../workflows/contracts.js';
import type { IncidentLinks, IncidentRow, IncidentStore, StepRow } from '../store/store.js';

export interface PostmortemData {
  incident: IncidentRow;
  links: IncidentLinks;
  /** The incident's timeline, typed (rows from before typed entries are upgraded on read). */
  events: TimelineEntry[];
  steps: StepRow[];
}

export class PostmortemNotFound extends Error {}

/** By incident id, or by workflow id (its latest incident). */
export async function loadPostmortem(store: IncidentStore, id: string): Promise<PostmortemData> {
  const incident = (await store.incident(id)) ?? (await store.incidents()).filter((r) => r.workflow_id === id).at(-1);
  if (!incident) throw new PostmortemNotFound(`no incident ${id} in the incident store`);
  const [events, steps] = await Promise.all([store.timeline(incident.incident_id), store.steps(incident.incident_id)]);
  let links: IncidentLinks = {};
  try {
    links = incident.links ? (JSON.parse(incident.links) as IncidentLinks) : {};
  } catch {
    // a damaged links column only costs the links
  }
  return { incident, links, events, steps };
}

export const seconds = (ms: number): string => formatDuration(ms / 1000);
