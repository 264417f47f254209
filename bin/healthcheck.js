#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK, docker-compose.yml): exits 0 when the process's
// /healthz answers 200. The worker serves it on MEDIC_WORKER_HEALTH_PORT, the app on
// MEDIC_HTTP_PORT (default 8080). Plain JavaScript so it starts fast, without tsx.
/* global process, console, fetch, AbortSignal -- Node globals (this file is plain JavaScript) */
const port = process.env.MEDIC_WORKER_HEALTH_PORT || process.env.MEDIC_HTTP_PORT || '8080';
const path = process.argv[2] || '/healthz';
const url = `http://127.0.0.1:${port}${path}`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`${url}: HTTP ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
