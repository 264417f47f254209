// Detection for the embedded demo: real Prometheus + Alertmanager when the Debian packages are
// installed (scraping the demo service, rule → Alertmanager → medic's webhook), otherwise the
// built-in health watcher posting through the same intake path. Either way it says which.
import { startHealthWatcher } from '../health-watcher.js';
import { DEMO_RULES, prometheusInstalled, startPrometheusStack } from '../prometheus-stack.js';

export interface Detection {
  description: string;
  stop(): Promise<void>;
}

export async function startDetection(o: {
  demoUrl: string;
  medicUrl: string;
  token: string;
  dir: string;
  say: (line: string) => void;
}): Promise<Detection> {
  const webhookUrl = `${o.medicUrl}/webhooks/alertmanager`;
  if (prometheusInstalled()) {
    const stack = await startPrometheusStack({
      scrapeTarget: new URL(o.demoUrl).host,
      webhookUrl,
      webhookToken: o.token,
      rules: DEMO_RULES,
      dir: `${o.dir}/prometheus`,
    });
    return {
      description: `Prometheus ${stack.prometheusUrl} (rule DemoServiceDown: demo_up == 0 for 2s) → Alertmanager ${stack.alertmanagerUrl} → medic`,
      stop: () => stack.stop(),
    };
  }
  o.say('prometheus/prometheus-alertmanager not installed: using medic\'s built-in health watcher instead (for the real path: apt-get install prometheus prometheus-alertmanager)');
  const watcher = startHealthWatcher({
    healthUrl: `${o.demoUrl}/healthz`,
    webhookUrl,
    token: o.token,
    labels: { alertname: 'DemoServiceDown', service: 'demo', severity: 'critical' },
    onEvent: o.say,
  });
  return {
    description: `built-in health watcher polling ${o.demoUrl}/healthz → medic`,
    stop: async () => watcher.stop(),
  };
}
