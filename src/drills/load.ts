// Loads drill scenarios (YAML, one per file) from files or directories; a broken one is reported
// and skipped, the others still load.
import { loadNamedYaml } from '../yaml/load-named.js';
import { DrillScenarioSchema, type DrillScenario } from './schema.js';

export async function loadDrills(paths: string[]): Promise<{ drills: DrillScenario[]; problems: string[] }> {
  const { items, problems } = await loadNamedYaml(paths, DrillScenarioSchema, { nameLabel: 'drill name' });
  return { drills: items, problems };
}
