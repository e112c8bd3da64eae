# The hopmap image: one image for every service and the worker; the command names which
# (docker run hopmap input|output|manager|ping ...). docker-compose.yml builds and runs it.
FROM node:20-bookworm-slim AS build
# raw-socket (the worker's ICMP sockets) compiles with node-gyp during npm ci.
RUN apt-get update \
  && apt-get install -y -q --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/hopmap
COPY package.json package-lock.json ./
# tsx, which runs the TypeScript sources, is a regular dependency: --omit=dev keeps it.
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .

FROM node:20-bookworm-slim
# pg_dump serves the output's GET /dump; bookworm's is 15, the version of compose's PostgreSQL.
RUN apt-get update \
  && apt-get install -y -q --no-install-recommends postgresql-client \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/hopmap
COPY --from=build /opt/hopmap /opt/hopmap
ENV NODE_ENV=production
# Named volumes start with the ownership of the image's directory: the outputs (node) write archives;
# the worker (root without CAP_DAC_OVERRIDE) writes its spool, so that stays root's.
RUN mkdir -p /var/lib/hopmap/archive /var/lib/hopmap/spool && chown node:node /var/lib/hopmap/archive
# The services run as node (uid 1000); the worker's container runs as root with CAP_NET_RAW only.
USER node
ENTRYPOINT ["node", "/opt/hopmap/bin/hopmap.js"]
CMD ["--help"]
