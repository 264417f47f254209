// PromQL probes against a real Prometheus scraping the demo service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusActivities } from '../../activities/prometheus.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { DEMO_RULES, startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';

let demo: DemoService;
let stack: PrometheusStack;
let probe: ReturnType<typeof createPrometheusActivities>['promqlProbe'];

beforeAll(async () => {
  demo = await startDemoService();
  stack = await startPrometheusStack({ scrapeTarget: new URL(demo.url).host, webhookUrl: 'http://127.0.0.1:9/none', webhookToken: 'x'.repeat(20), rules: DEMO_RULES });
  probe = createPrometheusActivities({ fetch, baseUrl: stack.prometheusUrl }).promqlProbe;
  const deadline = Date.now() + 20_000;
  while ((await probe({ query: 'demo_up', timeoutMs: 2_000 })).outcome === 'nodata') {
    if (Date.now() > deadline) throw new Error('Prometheus never scraped the demo service');
    await new Promise((r) => setTimeout(r, 250));
  }
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await demo?.close();
});

describe('promqlProbe', () => {
  it('passes on a healthy service, fails with the values seen when broken', async () => {
    const ok = await probe({ query: 'demo_up', timeoutMs: 2_000 });
    expect(ok.outcome).toBe('pass');
    expect(ok.evidence).toMatch(/demo_up: .*job="demo".*=1/);
    demo.state.fault = 'outage';
    const deadline = Date.now() + 10_000;
    let r = await probe({ query: 'demo_up', timeoutMs: 2_000 });
    while (r.outcome !== 'fail' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      r = await probe({ query: 'demo_up', timeoutMs: 2_000 });
    }
    expect(r.outcome).toBe('fail');
    expect(r.values[0]?.value).toBe(0);
    demo.state.fault = 'none';
  });

  it('reports no data for series that do not exist, and understands scalars', async () => {
    expect((await probe({ query: 'no_such_metric', timeoutMs: 2_000 })).outcome).toBe('nodata');
    expect((await probe({ query: 'scalar(vector(1))', timeoutMs: 2_000 })).outcome).toBe('pass');
    expect((await probe({ query: 'vector(0)', timeoutMs: 2_000 })).outcome).toBe('fail');
  });

  it('refuses a bad expression without retrying, with Prometheus’ reason', async () => {
    await expect(probe({ query: 'demo_up ==', timeoutMs: 2_000 })).rejects.toMatchObject({ type: 'BadQuery', nonRetryable: true });
  });
});
