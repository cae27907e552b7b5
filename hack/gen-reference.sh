#!/usr/bin/env bash
# Generates the API reference, docs/reference/, from the CRDs in crds/: one page per
# CustomResourceDefinition (every field with its type, default, validation and description),
# plus an index. helm turns the YAML into JSON (it is already needed for the chart); a small Go
# program (standard library only) writes the Markdown.
# With --check, changes nothing and exits 1 if docs/reference/ differs from a fresh render.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/docs/reference"

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

HELM="${HELM:-}"
if [ -z "$HELM" ] && [ -n "${QAO_CONTROL_PLANE_BIN:-}" ]; then
  HELM="$QAO_CONTROL_PLANE_BIN/helm"
fi
if [ -z "$HELM" ]; then
  HELM="$(bash "$ROOT/hack/build-control-plane.sh" | tail -n 1)/helm"
fi
[ -x "$HELM" ] || { echo "helm not found at $HELM" >&2; exit 1; }
command -v go >/dev/null || { echo "gen-reference: go is required" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

shopt -s nullglob
crds=("$ROOT"/crds/*.yaml)
if [ ${#crds[@]} -eq 0 ]; then
  echo "gen-reference: no CRD in crds/" >&2
  exit 1
fi

# A throw-away chart whose only template prints each CRD document as one line of JSON.
mkdir -p "$work/chart/templates" "$work/chart/input" "$work/out"
cp "${crds[@]}" "$work/chart/input/"
cat >"$work/chart/Chart.yaml" <<'YAML'
apiVersion: v2
name: gen-reference
version: 0.0.0
YAML
cat >"$work/chart/templates/crds.json" <<'TPL'
{{- range $path, $_ := .Files.Glob "input/*.yaml" }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($.Files.Get $path) -1 }}
{{- if regexMatch "[^\\s]" $doc }}
{{- $crd := fromYaml $doc }}
{{- if hasKey $crd "Error" }}{{ fail (printf "%s: %s" $path $crd.Error) }}{{ end }}
{{ dict "file" (base $path) "crd" $crd | toJson }}
{{- end }}
{{- end }}
{{- end }}
TPL
"$HELM" template gen "$work/chart" >"$work/crds.jsonl"
(cd "$ROOT/hack/gen-reference" && GOTOOLCHAIN=local go run ./main.go -out "$work/out") <"$work/crds.jsonl"

if $check; then
  if ! diff -r -u "$OUT" "$work/out"; then
    echo "gen-reference: docs/reference/ is stale; run hack/gen-reference.sh" >&2
    exit 1
  fi
  exit 0
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.md
cp "$work/out"/*.md "$OUT/"
echo "gen-reference: wrote $OUT" >&2
