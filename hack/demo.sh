#!/usr/bin/env bash
# The one-command demo (`make demo`): a real control plane (etcd + kube-apiserver), a Quay
# emulator seeded like the documentation's example, and the operator, all on loopback; applies
# examples/apitoken-sample.yaml, waits for Ready and prints the ApiToken and its result Secret,
# token included (a throw-away emulator's token: showing it is the point).
#
# Interactive (a terminal on stdin): keeps everything running until Ctrl-C, then stops it all.
# Non-interactive (--non-interactive, DEMO_NONINTERACTIVE=1, CI=true, or stdin not a terminal):
# exits once it has printed. Either way no process is left behind; DEMO_KEEP=1 keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/.."

STARTED=$SECONDS
NONINTERACTIVE=0
for arg in "$@"; do
  case "$arg" in
    --non-interactive) NONINTERACTIVE=1 ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo: unknown argument $arg (usage: hack/demo.sh [--non-interactive])" >&2
      exit 2
      ;;
  esac
done
if [ "${DEMO_NONINTERACTIVE:-}" = 1 ] || [ "${CI:-}" = true ] || [ ! -t 0 ]; then
  NONINTERACTIVE=1
fi

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
say() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
log() { printf '    %s\n' "$*"; }
die() {
  echo "demo: $*" >&2
  exit 1
}

# --- build -----------------------------------------------------------------------------------
say "Building the operator, the Quay emulator and the control-plane harness (debug)"
# Run from `cargo test` (tests/demo.rs), the environment carries the test's CARGO_MANIFEST_DIR
# and friends; ring's build script tracks CARGO_MANIFEST_DIR, so keeping them would rebuild the
# TLS stack and everything above it each time `cargo build` and `cargo test` alternate.
for var in ${!CARGO_PKG_@} ${!CARGO_BIN_EXE_@} CARGO_MANIFEST_DIR CARGO_MANIFEST_PATH \
  CARGO_CRATE_NAME CARGO_PRIMARY_PACKAGE CARGO_TARGET_TMPDIR CARGO_RUSTC_CURRENT_DIR OUT_DIR; do
  unset "$var"
done
"${CARGO:-cargo}" build --locked -q -p quay-apitoken-operator -p quay-emulator -p quay-testenv
log "built in $((SECONDS - STARTED))s"
TARGET_DIR=$("${CARGO:-cargo}" metadata --format-version 1 --no-deps --locked |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$TARGET_DIR" ] || die "cannot find cargo's target directory"
OPERATOR="$TARGET_DIR/debug/quay-apitoken-operator"
EMULATOR="$TARGET_DIR/debug/quay-emulator"
TESTENV="$TARGET_DIR/debug/quay-testenv"

say "Building etcd, kube-apiserver and kubectl (cached after the first run)"
CONTROL_PLANE_BIN=$(bash hack/build-control-plane.sh | tail -n 1)
KUBECTL_BIN="$CONTROL_PLANE_BIN/kubectl"
[ -x "$KUBECTL_BIN" ] || die "kubectl missing in $CONTROL_PLANE_BIN"
export QAO_CONTROL_PLANE_BIN="$CONTROL_PLANE_BIN"

# --- processes and clean-up ----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qao-demo.XXXXXX")
# Every process of the demo inherits this, so "is anything left?" has an exact answer:
# grep /proc/*/environ for it (tests/demo.rs does).
export QAO_DEMO_DIR="$WORK"
export KUBECONFIG="$WORK/kubeconfig"
OPERATOR_PID="" EMULATOR_PID="" TESTENV_PID="" PLANE_DIR="" SLEEP_PID=""

# Sends SIGTERM, waits up to $2 seconds, then SIGKILL.
stop_process() {
  local pid=$1 grace=$2 name=$3 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: $name did not stop within ${grace}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] && [ -f "$WORK/operator.log" ]; then
    echo "demo: failed; last lines of the operator log:" >&2
    tail -n 30 "$WORK/operator.log" >&2 || true
  fi
  say "Stopping the operator, the Quay emulator and the control plane"
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
  stop_process "$OPERATOR_PID" 10 operator
  stop_process "$EMULATOR_PID" 10 quay-emulator
  # quay-testenv stops etcd and kube-apiserver (and waits for them) before it exits.
  stop_process "$TESTENV_PID" 30 quay-testenv
  [ -n "$PLANE_DIR" ] && rm -rf "$PLANE_DIR"
  if [ "${DEMO_KEEP:-}" = 1 ]; then
    log "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  log "stopped (demo took $((SECONDS - STARTED))s)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until file $1 has a line matching $2 (prints it), while pid $3 lives, for $4 seconds.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3 limit=$4 i line
  for ((i = 0; i < limit * 10; i++)); do
    line=$(grep -m 1 -E "$pattern" "$file" 2>/dev/null || true)
    if [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# A port nothing listens on, below the kernel's ephemeral range: a port from that range can be
# taken as the source port of any outgoing connection (the tests' own, say) between this check
# and the operator's bind, which then fails with "Address already in use".
free_port() {
  local port _ low=32768
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  fi
  [ "$low" -gt 11024 ] || low=32768
  for _ in $(seq 100); do
    port=$((10000 + RANDOM % (low - 11000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# GET http://127.0.0.1:$1$2 with bash alone (no curl on a fresh machine); prints the body.
http_get() {
  local port=$1 path=$2
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
    sed '1,/^\r\{0,1\}$/d' <&3
  ) 2>/dev/null
}

kubectl() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG" "$@"; }

# --- control plane -------------------------------------------------------------------------------
say "Starting a local control plane (etcd + kube-apiserver)"
"$TESTENV" up --kubeconfig-out "$KUBECONFIG" >"$WORK/testenv.out" 2>"$WORK/testenv.log" &
TESTENV_PID=$!
if ! wait_for_line "$WORK/testenv.out" '^url ' "$TESTENV_PID" 180 >/dev/null; then
  cat "$WORK/testenv.log" >&2
  die "the control plane did not start"
fi
PLANE_DIR=$(sed -n 's/^dir //p' "$WORK/testenv.out")
log "API server   $(sed -n 's/^url //p' "$WORK/testenv.out")"
log "control plane dir $PLANE_DIR"
log "kubeconfig   $KUBECONFIG"
for _ in $(seq 100); do
  kubectl get namespace default >/dev/null 2>&1 && break
  sleep 0.2
done

# --- Quay emulator -------------------------------------------------------------------------------
say "Starting the Quay emulator (HTTPS, self-signed)"
cat >"$WORK/seed.yaml" <<'YAML'
# The world of the documentation's example: admin owns the organization production, which owns
# the OAuth application quay-operator. Like most operator accounts, admin is an ordinary org owner,
# not a Quay superuser (so `rights: [all]` mints every scope but super:user); quayroot is the
# installation's superuser. dwilde is there for examples/apitoken-for-user.yaml.
users:
  - name: admin
    password: Sup3r53cr3L
  - name: quayroot
    password: R00tOfQu4y
    superuser: true
  - name: dwilde
    password: Dw1ld3Passw0rd
organizations:
  - name: production
    admins: [admin]
applications:
  - org: production
    name: quay-operator
    client_id: PZ6F80R1LCVPGYNZGSZQ
YAML
# Port 0: the emulator binds a free port itself and prints its URL first.
"$EMULATOR" --listen 127.0.0.1:0 --tls --seed "$WORK/seed.yaml" \
  >"$WORK/emulator.out" 2>"$WORK/emulator.log" &
EMULATOR_PID=$!
CLIENT_LINE=$(wait_for_line "$WORK/emulator.out" '^app production/quay-operator client_id=' "$EMULATOR_PID" 30) ||
  { cat "$WORK/emulator.log" >&2; die "the Quay emulator did not start"; }
QUAY_URL=$(head -n 1 "$WORK/emulator.out")
CLIENT_ID=${CLIENT_LINE##*client_id=}
log "Quay         $QUAY_URL  (user admin / Sup3r53cr3L, organization production)"
log "application  production/quay-operator  client ID $CLIENT_ID"

# --- CRD and operator ----------------------------------------------------------------------------
say "Installing the ApiToken CRD"
"$OPERATOR" crd | kubectl apply -f - | sed 's/^/    /'
kubectl wait --for=condition=Established crd/apitokens.quay.herve4m.github.io --timeout=60s >/dev/null

say "Starting the operator"
METRICS_PORT=$(free_port) || die "no free port for the operator's metrics"
"$OPERATOR" run --metrics-addr "127.0.0.1:$METRICS_PORT" >"$WORK/operator.log" 2>&1 &
OPERATOR_PID=$!
# /healthz answers once the admin server listens; `kubectl wait` below is the real gate.
for _ in $(seq 300); do
  [ "$(http_get "$METRICS_PORT" /healthz | tr -d '[:space:]')" = ok ] && break
  kill -0 "$OPERATOR_PID" 2>/dev/null || die "the operator exited (see $WORK/operator.log)"
  sleep 0.1
done
log "metrics      http://127.0.0.1:$METRICS_PORT/metrics"
log "log          $WORK/operator.log"

# --- the example ---------------------------------------------------------------------------------
say "Applying examples/quay-credentials.yaml, application-secret.yaml and apitoken-sample.yaml"
sed "s#https://quay.example.com:8443#$QUAY_URL#" examples/quay-credentials.yaml |
  kubectl apply -f - | sed 's/^/    /'
sed "s#clientId: PZ6F80R1LCVPGYNZGSZQ#clientId: $CLIENT_ID#" examples/application-secret.yaml |
  kubectl apply -f - | sed 's/^/    /'
kubectl apply -f examples/apitoken-sample.yaml | sed 's/^/    /'
APPLIED=$(now_ms)

say "Waiting for apitoken/apitoken-sample to be Ready"
if ! kubectl wait --for=condition=Ready apitoken/apitoken-sample --timeout=120s | sed 's/^/    /'; then
  kubectl get apitoken apitoken-sample -o yaml >&2 || true
  die "apitoken-sample did not become Ready"
fi
log "Ready $(($(now_ms) - APPLIED)) ms after the apply"

say "kubectl get apitokens.quay.herve4m.github.io"
kubectl get apitokens.quay.herve4m.github.io | sed 's/^/    /'

say "The result Secret quay-credentials-secret, decoded"
kubectl get secret quay-credentials-secret -o go-template='{{range $k, $v := .data}}{{printf "%-14s %s\n" (printf "%s:" $k) (base64decode $v)}}{{end}}' |
  sed 's/^/    /'

say "Operator: /readyz says $(http_get "$METRICS_PORT" /readyz | tr -d '\r\n'); metrics (quay_apitoken_*)"
http_get "$METRICS_PORT" /metrics | grep -E '^quay_apitoken_(reconciles|tokens)[a-z_]*(\{| )' | sed 's/^/    /' || true

if [ "$NONINTERACTIVE" = 1 ]; then
  say "Done in $((SECONDS - STARTED))s (non-interactive)"
  exit 0
fi

say "Everything keeps running until you press Ctrl-C. Try, in another terminal:"
cat <<EOF
    export KUBECONFIG=$KUBECONFIG PATH=$CONTROL_PLANE_BIN:\$PATH
    kubectl annotate --overwrite apitoken/apitoken-sample quay.herve4m.github.io/rotate=\$(date +%s)
    kubectl delete secret quay-credentials-secret      # the operator repairs it
    kubectl apply -f examples/apitoken-inline-client-id.yaml
    kubectl delete apitoken apitoken-sample           # revokes the token in Quay
    tail -f $WORK/operator.log
EOF
while true; do
  sleep 3600 &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
done
