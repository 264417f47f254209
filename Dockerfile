# syntax=docker/dockerfile:1
# medic: one image, two processes (docker-compose.yml and deploy/helm/medic run both from it)
#   app     node --import tsx src/server/main.ts   (default CMD; alert intake, operator API, /metrics)
#   worker  node --import tsx src/worker.ts        (incident + governor workflows, activities)
#   bus     node --import tsx src/intake/bus/main.ts   (optional: alerts from NATS JetStream / Kafka)
#
#   docker build -t medic .
#
# Stages: deps (production dependencies, native modules built with the full toolchain image),
# build (all dependencies: type-check, bundle the workflow code once), runtime (slim, non-root,
# read-only code, production dependencies only).
# Node 24 LTS. scripts/image.sh builds without a Docker engine on local bases made the same way
# (Debian bookworm + Node 24): --build-arg NODE_IMAGE=localhost/medic-node:24-build
# --build-arg NODE_RUNTIME_IMAGE=localhost/medic-node:24
ARG NODE_IMAGE=node:24-bookworm
ARG NODE_RUNTIME_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Only this platform's Temporal core binary and better-sqlite3's compiled module go on to the
# runtime (the others, and the C sources and objects, are ~130 MB it never loads).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && target="$(node -p 'process.arch === "arm64" ? "aarch64" : "x86_64"')-unknown-linux-gnu" \
 && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name "$target" -exec rm -rf {} + \
 && cd node_modules/better-sqlite3 && mv build/Release/better_sqlite3.node . && rm -rf build deps src \
 && mkdir -p build/Release && mv better_sqlite3.node build/Release/

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Only bundles the workflow code: no native module is loaded here, so no install script runs.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts/bundle-workflows.ts ./scripts/bundle-workflows.ts
COPY bin ./bin
# Production workers load this pre-built bundle (MEDIC_WORKFLOW_BUNDLE): no webpack at start-up.
RUN npx tsx scripts/bundle-workflows.ts dist/workflow-bundle.js

FROM ${NODE_RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production \
    MEDIC_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
# Code and dependencies stay root-owned (the process cannot change them); only the data
# directory (SQLite store/audit when not on PostgreSQL) is writable by the runtime user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY playbooks ./playbooks
COPY runbooks ./runbooks
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
RUN mkdir -p /var/lib/medic && chown node:node /var/lib/medic
# The base image's unprivileged `node` user (uid 1000); the Helm chart's runAsUser matches.
USER 1000:1000
EXPOSE 8080 8081
# App: /healthz on MEDIC_HTTP_PORT; worker: /healthz on MEDIC_WORKER_HEALTH_PORT (set it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
CMD ["node", "--import", "tsx", "src/server/main.ts"]
