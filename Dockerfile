# medic runtime image (intake server by default; docker-compose.yml also runs the worker from it).
FROM node:20-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first for layer caching. tsx is a runtime dependency, so dev deps are not needed.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY . .
# Production workers load a pre-built workflow bundle (no webpack at start-up).
RUN npx tsx scripts/bundle-workflows.ts dist/workflow-bundle.js

USER node
EXPOSE 8080
CMD ["npx", "tsx", "src/server/main.ts"]
