# The engine's worker and API processes. Temporal and PostgreSQL run elsewhere (see docker-compose.yml).
# .dockerignore keeps .git, .data, .tools, node_modules, keys and environment files out of the build context.
# The TypeScript is compiled once, here (`npm run build`): the running processes load plain JavaScript, without
# tsx's loader thread and transpiled sources with their source maps in memory (an idle API process measured
# 151 MiB instead of 196 MiB).
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    DATA_DIR=/app/.data
WORKDIR /app
RUN chown node:node /app
# never root: the image's own unprivileged user owns the application and its data directory
USER node

# the patches of postgres.js and sonic-boom (patches/) are applied by patch-package in npm ci's postinstall,
# which fails the build when a patch does not apply; patch-package is a dependency, so --omit=dev keeps it
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund \
    && grep -q 'porsager/postgres#1154' node_modules/postgres/cjs/src/connection.js \
    && grep -q '_lastBufBytes' node_modules/sonic-boom/index.js \
    && npm cache clean --force

COPY --chown=node:node --from=build /build/dist ./dist
RUN mkdir -p "$DATA_DIR"

EXPOSE 3000
CMD ["node", "dist/api/main.js"]
