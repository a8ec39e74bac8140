# syntax=docker/dockerfile:1
# orchestrator-dynamic: a Swift 6.3 build on Debian 12 (bookworm), then a bookworm-slim runtime.
#
#   docker build --build-arg VERSION=$(.build/debug/orchestrator-dynamic --version) -t orchestrator-dynamic:0.2.0 .
#   docker run --rm -p 8000:8000 -p 9090:9090 --read-only --tmpfs /tmp \
#     -v orchestrator-data:/var/lib/orchestrator orchestrator-dynamic:0.2.0
#
# Checked without a Docker engine by Tests/Deploy/test_dockerfile.py (user, ports, healthcheck, and
# that every shared library the binary links is installed in the runtime stage).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build -------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build
# The C libraries the Kafka and SQLite modules compile against (Debian 12: librdkafka 2.0.2).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends librdkafka-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest names every target, test and fuzz targets included, and SwiftPM wants each one's
# directory to exist, so Tests/ and Fuzz/ are part of the context (.dockerignore keeps the rest out).
COPY Package.swift Package.resolved* ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Fuzz ./Fuzz
# The Swift runtime and Foundation are linked statically (--static-swift-stdlib): the runtime
# stage needs no Swift toolchain, only the C libraries below. The build cache (.build, with the
# fetched dependencies) is kept between builds.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product orchestrator-dynamic \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/orchestrator-dynamic" /out/orchestrator-dynamic \
    && /out/orchestrator-dynamic --version

# ---- runtime -----------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.2.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="orchestrator-dynamic" \
      org.opencontainers.image.description="The execution orchestrator of the Neural Hive-Mind (Flow C): REST API, engine, timers and outbox relay on SQLite or PostgreSQL" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.vendor="Neural Hive-Mind" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim" \
      org.opencontainers.image.documentation="docs/DEPLOYMENT.md"

# What the statically linked binary still loads (`ldd`), by Debian package:
#   librdkafka1 (librdkafka.so.1) and what it links: libssl3 (libssl/libcrypto), libsasl2-2,
#     liblz4-1, libzstd1, zlib1g (libz, also used by Foundation);
#   libsqlite3-0 (libsqlite3.so.0);
#   libstdc++6 and libgcc-s1: the Swift runtime is static, but it is C++ and still needs the
#     C++ standard library and the unwinder;
#   libc6 (libc, libm, libpthread, libdl, librt) is in the base image.
# Plus ca-certificates (TLS to PostgreSQL, Kafka and an OTLP collector with the system's CAs) and
# curl for HEALTHCHECK: the binary has no command that fetches /health without a token, and the
# slim image has no HTTP client (Kubernetes uses the chart's own probes, not this).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends \
        librdkafka1 libsqlite3-0 libstdc++6 libgcc-s1 zlib1g liblz4-1 libzstd1 libsasl2-2 libssl3 \
        ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 orchestrator \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/orchestrator --no-create-home \
        --shell /usr/sbin/nologin orchestrator \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/orchestrator

COPY --from=build /out/orchestrator-dynamic /usr/local/bin/orchestrator-dynamic

# The data directory (SQLite file, lock, outbox files, admin.token) is the only place written
# besides /tmp: the container runs with a read-only root file system.
ENV ORCHESTRATOR_DATA_DIR=/var/lib/orchestrator \
    ORCHESTRATOR_LOG_FORMAT=json
VOLUME ["/var/lib/orchestrator"]
WORKDIR /var/lib/orchestrator
USER 10001:10001

# 8000: the REST API; 9090: the /metrics-only listener.
EXPOSE 8000 9090

# Plain HTTP first, then HTTPS (when http.tls_cert_file is set the API speaks HTTPS only; -k: the
# probe checks liveness, not the certificate).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null --max-time 4 "http://127.0.0.1:${ORCHESTRATOR_PORT:-8000}/health" \
        || curl -fsSk -o /dev/null --max-time 4 "https://127.0.0.1:${ORCHESTRATOR_PORT:-8000}/health" \
        || exit 1

ENTRYPOINT ["/usr/local/bin/orchestrator-dynamic"]
CMD ["serve"]
