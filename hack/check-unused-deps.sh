#!/usr/bin/env bash
# Fails when a workspace crate declares a dependency its own code never names: an unused
# dependency still costs compile time and supply-chain surface, and nothing else notices it.
# For each member's Cargo.toml, every key of [dependencies], [dev-dependencies] and
# [build-dependencies] (also the [target.*.…] forms) must appear, `-` read as `_`, as a path
# (`name::`), a `use name` or an `extern crate name` in that crate's src/, tests/, benches/,
# examples/ or build.rs. A dependency needed only for what it turns on (a feature of a crate
# pulled in elsewhere) goes in hack/unused-deps-allowlist.txt with a reason; an allowlist entry
# that no longer matches a declared dependency fails too, so the list cannot go stale.
#
#   hack/check-unused-deps.sh [WORKSPACE_DIR]   check (default: this checkout)
#   hack/check-unused-deps.sh --self-test       prove the check can fail, on a temp copy
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALLOWLIST_NAME="hack/unused-deps-allowlist.txt"

# The workspace members, from the root manifest's `members = [...]` (one line or several).
members() {
  awk '
    /^\[workspace\]/ { ws = 1; next }
    /^\[/ { ws = 0 }
    ws && /^members[[:space:]]*=/ { grab = 1 }
    grab {
      line = $0
      while (match(line, /"[^"]*"/)) {
        print substr(line, RSTART + 1, RLENGTH - 2)
        line = substr(line, RSTART + RLENGTH)
      }
      if ($0 ~ /\]/) grab = 0
    }
  ' "$1/Cargo.toml"
}

# The dependency keys of one manifest, one per line.
dependencies() {
  awk '
    /^\[/ {
      section = $0
      gsub(/[[:space:]]/, "", section)
      deps = (section ~ /^\[(target\..*\.)?(dev-|build-)?dependencies\]$/)
      # [dependencies.name] tables name the dependency in the header.
      if (section ~ /^\[(target\..*\.)?(dev-|build-)?dependencies\.[^]]+\]$/) {
        name = section
        sub(/^.*dependencies\./, "", name)
        sub(/\]$/, "", name)
        gsub(/"/, "", name)
        print name
      }
      next
    }
    # A key line (`name = …` or `name.workspace = …`), not the inside of a multi-line array.
    deps && /^[[:space:]]*"?[A-Za-z0-9_-]+"?[[:space:]]*[.=]/ {
      name = $0
      sub(/^[[:space:]]*/, "", name)
      sub(/[[:space:]]*[.=].*$/, "", name)
      gsub(/"/, "", name)
      if (name != "") print name
    }
  ' "$1" | sort -u
}

# The package name of one manifest.
package_name() {
  awk '
    /^\[package\]/ { pkg = 1; next }
    /^\[/ { pkg = 0 }
    pkg && /^name[[:space:]]*=/ { sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit }
  ' "$1"
}

# Whether the crate in DIR names the Rust crate NAME anywhere in its sources.
referenced() {
  local dir=$1 name=$2 places=()
  for p in src tests benches examples build.rs; do
    if [ -e "$dir/$p" ]; then places+=("$dir/$p"); fi
  done
  [ ${#places[@]} -gt 0 ] || return 1
  grep -rqE --include='*.rs' \
    "(^|[^A-Za-z0-9_])${name}::|(^|[^A-Za-z0-9_])use[[:space:]]+${name}([^A-Za-z0-9_]|$)|extern[[:space:]]+crate[[:space:]]+${name}([^A-Za-z0-9_]|$)" \
    "${places[@]}"
}

check() {
  local root=$1 allowlist="$1/$ALLOWLIST_NAME" failed=0 member dir manifest pkg dep
  local -A allowed=() seen=()
  if [ -f "$allowlist" ]; then
    while read -r a_pkg a_dep reason; do
      case "$a_pkg" in '' | '#'*) continue ;; esac
      if [ -z "$reason" ]; then
        echo "$ALLOWLIST_NAME: '$a_pkg $a_dep' has no reason" >&2
        failed=1
      fi
      allowed["$a_pkg $a_dep"]=1
    done <"$allowlist"
  fi
  while read -r member; do
    dir="$root/$member"
    manifest="$dir/Cargo.toml"
    pkg="$(package_name "$manifest")"
    while read -r dep; do
      [ -n "$dep" ] || continue
      if [ -n "${allowed["$pkg $dep"]:-}" ]; then
        seen["$pkg $dep"]=1
        continue
      fi
      if ! referenced "$dir" "${dep//-/_}"; then
        echo "unused dependency: $pkg declares '$dep' but no source of it names ${dep//-/_}" >&2
        failed=1
      fi
    done < <(dependencies "$manifest")
  done < <(members "$root")
  for entry in "${!allowed[@]}"; do
    if [ -z "${seen["$entry"]:-}" ]; then
      echo "$ALLOWLIST_NAME: '$entry' is not a declared dependency any more; drop the entry" >&2
      failed=1
    fi
  done
  if [ "$failed" -ne 0 ]; then
    echo "remove the dependency, or allowlist it in $ALLOWLIST_NAME with a reason" >&2
    return 1
  fi
  echo "every declared dependency is used"
}

# Copies the manifests, sources and allowlist of ROOT into a temp dir, so the self-test can
# break a copy without touching the checkout.
copy_workspace() {
  local root=$1 to=$2 member p
  mkdir -p "$to/hack"
  cp "$root/Cargo.toml" "$to/"
  if [ -f "$root/$ALLOWLIST_NAME" ]; then cp "$root/$ALLOWLIST_NAME" "$to/hack/"; fi
  while read -r member; do
    mkdir -p "$to/$member"
    cp "$root/$member/Cargo.toml" "$to/$member/"
    for p in src tests benches examples build.rs; do
      if [ -e "$root/$member/$p" ]; then cp -r "$root/$member/$p" "$to/$member/"; fi
    done
  done < <(members "$root")
}

self_test() {
  local root tmp out
  root="$(cd "$HERE/.." && pwd)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  copy_workspace "$root" "$tmp/clean"
  if ! out="$(check "$tmp/clean" 2>&1)"; then
    echo "self-test: the unchanged copy fails the check:" >&2
    echo "$out" >&2
    return 1
  fi
  copy_workspace "$root" "$tmp/extra"
  # A dependency nothing names, declared both inline and as its own table.
  awk '{ print } /^\[dependencies\]/ { print "never-named-crate = \"1\"" }' \
    "$root/Cargo.toml" >"$tmp/extra/Cargo.toml"
  printf '\n[dev-dependencies.other-never-named]\nversion = "1"\n' >>"$tmp/extra/Cargo.toml"
  if out="$(check "$tmp/extra" 2>&1)"; then
    echo "self-test: a dependency no source names passed the check" >&2
    return 1
  fi
  for dep in never-named-crate other-never-named; do
    if ! grep -q "'$dep'" <<<"$out"; then
      echo "self-test: the failure does not name $dep:" >&2
      echo "$out" >&2
      return 1
    fi
  done
  # A stale allowlist entry fails as well.
  copy_workspace "$root" "$tmp/stale"
  echo "quay-apitoken-operator long-gone-crate a reason that no longer holds" \
    >>"$tmp/stale/$ALLOWLIST_NAME"
  if check "$tmp/stale" >/dev/null 2>&1; then
    echo "self-test: a stale allowlist entry passed the check" >&2
    return 1
  fi
  echo "self-test: the check fails on an unused dependency and a stale allowlist entry"
}

case "${1:-}" in
  --self-test) self_test ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) check "$(cd "${1:-$HERE/..}" && pwd)" ;;
esac
