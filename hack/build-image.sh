#!/usr/bin/env bash
# Builds the operator's image from the Dockerfile without a Docker engine: Debian's podman with
# runc (crun refuses this kind of sandbox's cgroups), daemonless.
#
# The Dockerfile stays the one file `docker build .` uses elsewhere. Here two named build
# contexts stand in for what would come from an image registry:
#   - its `builder` stage is replaced by the binary built on this host (buildah then skips that
#     stage: nothing compiles inside the build);
#   - its final base, distroless/cc, is replaced by the same few files assembled from Debian's
#     own `libc6`, `libgcc-s1` and `ca-certificates` packages (`apt-get download`), cached.
#
# Usage: hack/build-image.sh [--release] [--binary PATH] [--tag NAME]
#   --release   build target/release/quay-apitoken-operator first (the image that ships)
#   --binary    put this binary in the image (default: target/debug/quay-apitoken-operator,
#               the one the tests already built; CI uses it, as a second compile costs minutes)
#   --tag       image name (default localhost/quay-apitoken-operator:dev)
# Prints the image name on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/debug/quay-apitoken-operator
tag=localhost/quay-apitoken-operator:dev
release=false
while [ $# -gt 0 ]; do
  case "$1" in
    --release) release=true; binary=target/release/quay-apitoken-operator ;;
    --binary) binary="$2"; shift ;;
    --tag) tag="$2"; shift ;;
    *) echo "build-image: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "build-image: $*" >&2; }

# podman and runc from Debian's packages; nothing else is needed on the host.
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing podman and runc"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null
  else
    echo "build-image: podman and runc are required" >&2
    exit 1
  fi
fi
# shellcheck source=hack/podman.sh
source hack/podman.sh

if $release; then
  log "building the release binary"
  cargo build --release --locked -p quay-apitoken-operator
fi
[ -x "$binary" ] || { echo "build-image: no binary at $binary (build it, or pass --release)" >&2; exit 1; }

CACHE_ROOT="${QAO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quay-apitoken-operator}"
packages=(libc6 libgcc-s1 ca-certificates)

# The base is keyed by the exact package versions apt would download, so a security update of
# glibc or of the CA bundle builds a new base and an unchanged one is reused.
versions() {
  for p in "${packages[@]}"; do
    printf '%s=%s\n' "$p" "$(apt-cache policy "$p" | sed -n 's/^  Candidate: //p')"
  done
}
if ! versions | grep -q '=[^(]'; then
  apt-get update -qq
fi
key=$(versions | sha256sum | cut -c1-12)
base="localhost/qao-base-cc:$key"

if ! pm image exists "$base"; then
  log "assembling the base image from Debian packages ($(versions | tr '\n' ' '))"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download "${packages[@]}" >/dev/null)
  root="$work/rootfs"
  mkdir -p "$root"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  # What distroless/cc leaves out too: documentation, locales, iconv modules, maintainer
  # scripts' helpers. The binary needs glibc, libgcc_s and the CA bundle.
  rm -rf "$root"/usr/share/{doc,man,info,lintian,locale,i18n} "$root"/usr/lib/x86_64-linux-gnu/gconv \
    "$root"/usr/sbin "$root"/sbin "$root"/usr/bin "$root"/bin "$root"/etc/ld.so.conf.d
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
  # update-ca-certificates would do this at install time; the bundle is the concatenation.
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown 65532:65532 "$root/home/nonroot"
  tar --numeric-owner -C "$root" -cf "$work/rootfs.tar" .
  pm import --change 'USER 65532:65532' --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    "$work/rootfs.tar" "$base" >/dev/null
fi

# A context with only the binary, where the Dockerfile's builder stage would have put it.
ctx=$(mktemp -d)
trap 'rm -rf "$ctx" ${work:+"$work"}' EXIT
install -D -m 0755 "$binary" "$ctx/builder/out/quay-apitoken-operator"
# A test build carries ~300 MiB of debug info that no one reads in a container; the release
# profile strips its symbols already.
if ! $release && command -v strip >/dev/null; then
  strip --strip-debug "$ctx/builder/out/quay-apitoken-operator"
fi
mkdir -p "$ctx/empty"

from=$(sed -n 's/^FROM \([^ ]*\)$/\1/p' Dockerfile | tail -n 1)
[ -n "$from" ] || { echo "build-image: the Dockerfile's final FROM was not found" >&2; exit 1; }
log "building $tag ($binary, base $from -> $base)"
started=$(date +%s)
pm build --quiet \
  --build-context "builder=$ctx/builder" \
  --build-context "$from=container-image://$base" \
  -f Dockerfile -t "$tag" "$ctx/empty" >/dev/null
size=$(pm image inspect --format '{{.Size}}' "$tag")
log "built $tag in $(($(date +%s) - started)) s: $((size / 1024 / 1024)) MiB ($size bytes)"
echo "$tag"
