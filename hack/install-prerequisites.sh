#!/usr/bin/env bash
# Installs what a fresh machine may lack for building and testing: the Rust components used by
# CI and the tools the scripts call. Idempotent and quiet when everything is there.
set -euo pipefail

if command -v rustup >/dev/null; then
  installed=$(rustup component list --installed 2>/dev/null || true)
  for c in rustfmt clippy; do
    grep -q "^$c" <<<"$installed" || rustup component add "$c"
  done
fi

missing=()
for tool in go make bash; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=()
  for t in "${missing[@]}"; do
    case "$t" in go) pkgs+=(golang-go) ;; *) pkgs+=("$t") ;; esac
  done
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "${pkgs[@]}"
  else
    echo "missing tools: ${missing[*]} (install them and run again)" >&2
    exit 1
  fi
fi
