import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

async function configFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'medic-cfg-'));
  const file = join(dir, 'medic.yaml');
  await writeFile(file, yaml);
  return file;
}

describe('detectors in the config file', () => {
  it('parses threshold, anomaly and multi detectors with defaults', async () => {
    const file = await configFile(`
prometheus: { url: "http://127.0.0.1:9090" }
detectors:
  - { kind: threshold, name: CheckoutErrors, query: "rate(errors_total[1m])", op: ">", threshold: 0.05 }
  - { kind: anomaly, name: CheckoutLatency, query: "histogram_quantile(0.99, rate(latency_bucket[5m]))" }
  - { kind: multi, name: CheckoutDegraded, all: [CheckoutErrors, CheckoutLatency], labels: { severity: critical } }
`);
    const c = loadConfig({ MEDIC_CONFIG: file });
    expect(c.prometheus?.url).toBe('http://127.0.0.1:9090');
    expect(c.detectors.map((d) => d.kind)).toEqual(['threshold', 'anomaly', 'multi']);
    const anomaly = c.detectors[1]!;
    expect(anomaly.kind === 'anomaly' && [anomaly.minHistory, anomaly.threshold, anomaly.interval]).toEqual([60, 6, '15s']);
  });

  it('lists every detector problem', async () => {
    const file = await configFile(`
detectors:
  - { kind: threshold, name: "bad name", query: "", op: "=" , threshold: 1 }
  - { kind: multi, name: Lonely, all: [OnlyOne] }
`);
    let err: unknown;
    try {
      loadConfig({ MEDIC_CONFIG: file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toContain('detectors.0.name');
    expect(problems).toContain('detectors.0.query');
    expect(problems).toContain('detectors.0.op');
    expect(problems).toContain('detectors.1.all');
  });
});
