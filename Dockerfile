# syntax=docker/dockerfile:1
# One image for every Wharf program: the registry, the node agent, the migration command and the
# CLI and the executor today; the operator gets its entrypoint as it lands (deploy/image/
# entrypoint.sh says which exist). Build: `docker build -t ghcr.io/wharf/wharf:dev .`
# Run: `docker run ghcr.io/wharf/wharf:dev registry` (the default), `… node-agent`, `… migrate`,
# `… wharf ls`. test/foundation/dockerfile.test.ts checks this file's structure.

ARG NODE_IMAGE=node:20.19-bookworm-slim

# 1. Compile the TypeScript sources to dist/ with the dev dependencies (tsc, types).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not here yet; the build step follows.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY node-agent ./node-agent
COPY kube-runtime ./kube-runtime
# The web console, bundled by Vite into dist/web; the registry serves it at /.
COPY web ./web
COPY executor ./executor
COPY operator ./operator
COPY scripts/build.js ./scripts/build.js
# The incremental build's bookkeeping is of no use in the image.
RUN npm run build && rm -f dist/*.tsbuildinfo dist/.build-stamp dist/.web-build-stamp

# 2. The production dependencies alone, so the final image carries no compiler or test tools.
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# 3. The runtime: node, the compiled programs, their dependencies; owned by root, run as 65532.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/wharf
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY deploy/image/entrypoint.sh /usr/local/bin/wharf-entrypoint
# The registry's data (embedded database, local blobs, upload spool) when it has no volume there;
# the one directory the non-root user may write besides /tmp.
RUN chmod 0755 /usr/local/bin/wharf-entrypoint \
 && ln -s /app/bin/wharf.js /usr/local/bin/wharf \
 && mkdir -p /var/lib/wharf \
 && chown 65532:65532 /var/lib/wharf
# A numeric user, so Kubernetes can enforce runAsNonRoot without looking it up.
USER 65532:65532
EXPOSE 8080 7070
ENTRYPOINT ["/usr/local/bin/wharf-entrypoint"]
CMD ["registry"]
