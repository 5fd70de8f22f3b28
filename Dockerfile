# yizhan (一站) — one image for every service.
#
#   docker build -t yizhan:local .
#   docker run --rm -p 8083:8083 yizhan:local              # serve document
#   docker run --rm yizhan:local serve licensing           # any other service
#
# The same binary runs one service per container (`serve <service>`), the way
# docker-compose.yml and k8s/ use it; with no arguments it would run the whole
# stack in one process, which is meant for development only.

############################ build ############################
FROM rust:1.95-bookworm AS builder

# librdkafka is compiled from source by rdkafka-sys (configure + make),
# it needs a C toolchain, python3, perl and zlib headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential python3 perl zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# BuildKit cache mounts keep the crates.io registry and the target directory
# between builds; the binary is copied out because the cache is not in the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin yizhan \
    && install -Dm0755 target/release/yizhan /out/yizhan

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to PostgreSQL, Kafka, the JWKS endpoint and webhooks.
# curl: used only by container healthchecks (GET /readyz).
# fonts-noto-cjk: the Chinese font licence PDFs are set in (read at run time,
# a subset embedded in each PDF; without it only the PDF answers 503).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

ARG UID=10001
ARG GID=10001
# The directories compose mounts named volumes on exist here, owned by the
# service user: a fresh named volume takes their owner and mode.
RUN groupadd --system --gid "${GID}" yizhan \
    && useradd --system --uid "${UID}" --gid "${GID}" --home-dir /var/lib/yizhan \
        --no-create-home --shell /usr/sbin/nologin yizhan \
    && mkdir -p /var/lib/yizhan/documents /var/lib/yizhan/webhook-key \
    && mkdir -p -m 0700 /var/lib/yizhan/certificate-keys \
    && chown -R yizhan:yizhan /var/lib/yizhan

COPY --from=builder /out/yizhan /usr/local/bin/yizhan

ENV YIZHAN_HTTP__HOST=0.0.0.0 \
    YIZHAN_DATA_DIR=/var/lib/yizhan \
    YIZHAN_LOG__FORMAT=json

# portal, licensing, construction, document, notification
EXPOSE 8080 8081 8082 8083 8084

VOLUME ["/var/lib/yizhan"]
WORKDIR /var/lib/yizhan
USER 10001:10001

ENTRYPOINT ["/usr/local/bin/yizhan"]
CMD ["serve", "document"]
