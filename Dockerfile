# syntax=docker/dockerfile:1.7
#
# Image of the quay-apitoken-operator binary.
#   docker build -t quay-apitoken-operator .
#
# Why glibc + distroless/cc rather than a static musl binary on distroless/static: rustls here
# uses both aws-lc-rs (through reqwest's default provider) and ring, whose C/assembly parts
# build out of the box for the glibc target but need a musl C toolchain otherwise; and musl's
# allocator is markedly slower under tokio's multi-threaded runtime. distroless/cc adds only
# glibc and libgcc to distroless/static, and both carry the CA bundle that rustls'
# native/platform verifiers read at run time.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the crates.io download and the compiled dependencies between builds, so a
# source change rebuilds only the workspace crates. (A manifest-only layer with stub sources
# would break each time a workspace member is added; the cache does not.)
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p quay-apitoken-operator \
 && install -D -m 0755 target/release/quay-apitoken-operator /out/quay-apitoken-operator

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="quay-apitoken-operator" \
      org.opencontainers.image.description="Kubernetes operator that mints, keeps and revokes Quay OAuth access tokens" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/quay-apitoken-operator /usr/local/bin/quay-apitoken-operator
# The nonroot user of distroless; matches runAsUser in the Helm chart.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/quay-apitoken-operator"]
CMD ["run"]
