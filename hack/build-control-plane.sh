#!/usr/bin/env bash
# Builds the binaries of a real Kubernetes control plane for the tests and the demo:
# kube-apiserver, kube-controller-manager and kubectl from the k8s.io/kubernetes Go module,
# etcd from go.etcd.io/etcd/server/v3, and helm from helm.sh/helm/v3; beside them, the Gateway
# API ReferenceGrant CRD from the sigs.k8s.io/gateway-api module (the tests install it).
# They land in a cache folder outside the checkout, keyed by version, so a fresh clone reuses them.
# Prints the bin folder on its last line. Does nothing when the binaries are already there.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.19.5}"
# v1.7 needs a newer Go than CI's; ReferenceGrant v1beta1 is the same in both.
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.3}"
CACHE_ROOT="${QAO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quay-apitoken-operator}"
BIN_DIR="$CACHE_ROOT/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"
WORK="$CACHE_ROOT/control-plane/build"
# Fixed names, so the tests find them from the bin folder alone; the stamp says which version.
GRANT_CRD="$BIN_DIR/referencegrants.crd.yaml"
GRANT_STAMP="$BIN_DIR/referencegrants.version"

# Only a module download and a copy: no Go build.
fetch_reference_grant_crd() {
  if [ -f "$GRANT_CRD" ] && [ "$(cat "$GRANT_STAMP" 2>/dev/null)" = "$GATEWAY_API_VERSION" ]; then
    return 0
  fi
  command -v go >/dev/null || { echo "go is required to fetch the ReferenceGrant CRD" >&2; exit 1; }
  echo "build-control-plane: fetching the ReferenceGrant CRD of sigs.k8s.io/gateway-api $GATEWAY_API_VERSION" >&2
  mkdir -p "$BIN_DIR" "$WORK"
  local modjson dir src
  # Outside any module, so that no go.mod around the cache changes what is resolved.
  modjson=$(cd "$WORK" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  dir=$(printf '%s' "$modjson" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  src="$dir/config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml"
  [ -f "$src" ] || src="$dir/config/crd/experimental/gateway.networking.k8s.io_referencegrants.yaml"
  [ -f "$src" ] || { echo "no ReferenceGrant CRD in sigs.k8s.io/gateway-api $GATEWAY_API_VERSION" >&2; exit 1; }
  install -m 0644 "$src" "$GRANT_CRD.tmp"
  mv "$GRANT_CRD.tmp" "$GRANT_CRD"
  echo "$GATEWAY_API_VERSION" >"$GRANT_STAMP"
}
fetch_reference_grant_crd

need=()
for b in etcd kube-apiserver kube-controller-manager kubectl helm; do
  [ -x "$BIN_DIR/$b" ] || need+=("$b")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "go is required to build the control plane" >&2; exit 1; }
mkdir -p "$BIN_DIR" "$WORK"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
log() { echo "build-control-plane: $*" >&2; }

# A wrapper module per component keeps their dependency graphs apart: kubernetes pins its
# staging modules by replace directives, which only the main module may carry.
build_k8s() {
  local dir="$WORK/k8s-$K8S_VERSION"
  mkdir -p "$dir"
  local minor="${K8S_VERSION#v1.}"
  local staging_version="v0.$minor"
  if [ ! -f "$dir/.ready" ]; then
    log "resolving k8s.io/kubernetes $K8S_VERSION"
    local modjson gomod
    modjson=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
    gomod=$(printf '%s' "$modjson" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
    {
      echo "module qao/k8sbuild"
      echo
      echo "go $(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod")"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$gomod" \
        | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
    } >"$dir/go.mod"
    cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true)
    (cd "$dir" && GOFLAGS=-mod=mod go get k8s.io/kubernetes/cmd/kube-apiserver@"$K8S_VERSION" \
      k8s.io/kubernetes/cmd/kube-controller-manager@"$K8S_VERSION" k8s.io/kubernetes/cmd/kubectl@"$K8S_VERSION")
    touch "$dir/.ready"
  fi
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor%%.*} -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  for b in kube-apiserver kube-controller-manager kubectl; do
    if [ ! -x "$BIN_DIR/$b" ]; then
      log "building $b $K8S_VERSION"
      (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/$b.tmp" "k8s.io/kubernetes/cmd/$b")
      mv "$BIN_DIR/$b.tmp" "$BIN_DIR/$b"
    fi
  done
}

build_etcd() {
  [ -x "$BIN_DIR/etcd" ] && return 0
  local dir="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.mod" ]; then
    (cd "$dir" && go mod init qao/etcdbuild >/dev/null 2>&1 && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
}

build_helm() {
  [ -x "$BIN_DIR/helm" ] && return 0
  local dir="$WORK/helm-$HELM_VERSION"
  mkdir -p "$dir"
  if [ ! -f "$dir/go.mod" ]; then
    (cd "$dir" && go mod init qao/helmbuild >/dev/null 2>&1 && GOFLAGS=-mod=mod go get "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  fi
  log "building helm $HELM_VERSION"
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" -o "$BIN_DIR/helm.tmp" helm.sh/helm/v3/cmd/helm)
  mv "$BIN_DIR/helm.tmp" "$BIN_DIR/helm"
}

build_etcd
build_k8s
build_helm
echo "$BIN_DIR"
