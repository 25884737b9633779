# syntax=docker/dockerfile:1
#
# Alter OAuth authorization server. Not built on the development machines (no Docker engine
# there); see the note at the top of docker-compose.yml.
#
#   docker build -t alter .
#   docker run -p 8080:8080 -v alter-data:/data alter

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, compile TypeScript into dist/ -----------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script (npm run build) needs the sources, copied below.
RUN npm ci --ignore-scripts
COPY . .
# config/ may be absent or empty in a clone; make sure the runtime COPY below finds it.
RUN npm run build && mkdir -p config

# ---- prod-deps: production node_modules only ---------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080 ALTER_DATA_DIR=/data
WORKDIR /app
# Application files stay owned by root (read-only for the app); only /data is writable.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
