# wa-tenants: one node of the gateway. Built and statically checked here (tests/unit/scale/deploy.test.ts);
# Docker itself does not run on the development machine, so this image is not built in CI.
#
#   docker build -t wa-tenants:0.1.0 .
#   docker run -p 3000:3000 -e JWT_SECRET=... -e DATABASE_URL=... -e REDIS_URL=... wa-tenants:0.1.0
#
# Debian 12 (bookworm) like the machines the stack was verified on: glibc 2.36 for the uWebSockets.js
# build, and Debian's Chromium for whatsapp-web.js (puppeteer's own download is skipped).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV PUPPETEER_SKIP_DOWNLOAD=true
# Dependencies first (their layer survives source changes). patch-package runs in postinstall.
COPY package.json package-lock.json .puppeteerrc.cjs ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
# The web console (vite -> dist/console) and the server as JavaScript (scripts/build-server.ts ->
# build/src, the same tree as src/ with the assets beside it, the actor code bundled).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# chromium: the wwebjs engine's browser. tini: PID 1 that forwards SIGTERM to node and reaps Chromium's
# children. fonts: pages WhatsApp Web renders need some.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium tini ca-certificates fonts-liberation \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    CHROMIUM_PATH=/usr/bin/chromium
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/build/src ./src
COPY --from=build /src/dist/console ./dist/console
# The image's own user (uid 1000 in the node images), never root; DATA_DIR is its only writable place
# besides /tmp (Kubernetes mounts emptyDirs on both).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains the node (sessions handed to the other nodes, sockets closed) within SHUTDOWN_TIMEOUT_MS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "src/main.js"]
