# batchgate in an image with nothing else in it.
#
# Build stage: install from the lockfile with npm (Bun itself comes from npm, as a devDependency)
# and compile dist/batchgate with `npm run build`. The builder's architecture is the binary's:
# build on an arm64 host, or with `docker buildx build --platform linux/arm64`, for arm64.
# test/binary/rootfs.sh then lays out the whole runtime root — the binary, the glibc files it
# links (what `ldd` lists), the CA bundle — the same root `npm run test:binary` runs the binary in.
ARG NODE_IMAGE=node:22-bookworm
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test/binary/rootfs.sh ./test/binary/rootfs.sh
# The data dir leaves the root: COPY does not keep the owner of the directory it creates, so it is
# copied on its own with --chown below.
RUN npm run build \
 && ./dist/batchgate --version \
 && sh test/binary/rootfs.sh dist/batchgate /rootfs 65532:65532 \
 && mv /rootfs/data /data-dir

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /data-dir/ /data/
# Bun trusts its built-in Mozilla roots plus the bundle SSL_CERT_FILE names (docs/deploy.md, "TLS").
# BUN_JSC_forceRAMSize: the collector works against a 512 MiB budget instead of the host's RAM,
# which keeps peak RSS of large uploads under 150 MiB (docs/deploy.md, "Memory").
ENV BATCHGATE_HOST=0.0.0.0 \
    BATCHGATE_PORT=8080 \
    BATCHGATE_DATA_DIR=/data \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    BUN_JSC_forceRAMSize=536870912
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/batchgate", "healthcheck"]
ENTRYPOINT ["/batchgate"]
