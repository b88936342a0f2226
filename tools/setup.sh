#!/usr/bin/env bash
# Brings this machine up to what eda-shop needs, and skips whatever is already there:
#   - redis-server (Debian's package),
#   - a virtual environment (.venv) with the locked Python dependencies (apps and tests),
#   - the Dapr CLI and runtime (daprd) at the pinned versions in ~/.dapr/bin, built from
#     the Go module proxy when no install of that version (and, for daprd, of that build:
#     tools/dapr-runtime/patches) exists,
#   - the shipping app's binary (Go) and the notifications app's packages (npm ci),
#   - Zipkin's server (the tracing backend of `make run`) from Maven Central, checked.
#   - with --for-tests, Debian's Chromium for the browser tests and its iptables for the
#     black holes of the reliability tier; with --for-chaos, iptables for make chaos's.
# Every version comes from tools/versions.env. Safe to run again and again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/tools/versions.env"
dapr_bin="${DAPR_INSTALL_DIR:-$HOME/.dapr/bin}"
venv="$root/.venv"

script=setup
# shellcheck source=lib.sh
source "$root/tools/lib.sh"

need_root_for() {
  [ "$(id -u)" -eq 0 ] || fail "$1 is missing and installing it needs root: run 'sudo apt-get install -y $1'"
}

setup_redis() {
  if ! command -v redis-server >/dev/null; then
    need_root_for redis-server
    step "installing redis-server from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  local have
  have=$(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/')
  if [ "$(printf '%s\n%s\n' "$REDIS_MIN_VERSION" "$have" | sort -V | head -n1)" != "$REDIS_MIN_VERSION" ]; then
    fail "redis-server $have is older than $REDIS_MIN_VERSION: run 'sudo apt-get install -y redis-server' from a newer Debian"
  fi
  step "redis-server $have"
}

setup_venv() {
  local lock="$root/requirements-dev.lock" stamp="$venv/.requirements-dev.lock"
  if [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; then
    step "Python environment up to date (.venv)"
    return
  fi
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "Python 3.11 or newer is needed: run 'sudo apt-get install -y python3'"
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || fail "Python's venv module is missing: run 'sudo apt-get install -y python3-venv'"
  step "creating .venv with the locked Python dependencies"
  # Made anew whenever the lock changes, so it holds exactly what the lock says.
  rm -rf "$venv"
  # The Makefile puts .venv/bin first on PATH: forget the python3 just removed.
  hash -r
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  cp "$lock" "$stamp"
}

setup_dapr_cli() {
  if [ "$(version_of "$dapr_bin/dapr" --version)" = "$DAPR_CLI_VERSION" ]; then
    step "Dapr CLI $DAPR_CLI_VERSION already in $dapr_bin"
    return
  fi
  step "building the Dapr CLI $DAPR_CLI_VERSION from the Go module proxy"
  go_build "$root/tools/dapr-cli" github.com/dapr/cli "$dapr_bin/dapr" \
    -ldflags "-s -w -X main.version=$DAPR_CLI_VERSION"
}

setup_daprd() {
  local module="$root/tools/dapr-runtime" stamp="$dapr_bin/.daprd-build"
  # What the binary is made from: the module graph, eda-shop's patches to the runtime,
  # and the check it passed.
  local build
  build=$(cat "$module/go.mod" "$module/go.sum" "$module"/patches/*.patch "$module"/refusedcalls/*.go \
    | sha256sum | cut -d' ' -f1)
  if [ "$(version_of "$dapr_bin/daprd" --version)" = "$DAPR_RUNTIME_VERSION" ] \
    && [ "$(cat "$stamp" 2>/dev/null)" = "$build" ]; then
    step "Dapr runtime $DAPR_RUNTIME_VERSION already in $dapr_bin"
    return
  fi
  step "building the Dapr runtime $DAPR_RUNTIME_VERSION from the Go module proxy (the first build takes a while)"
  # The runtime's source with eda-shop's patches (each says why), built by a copy of the
  # module pointed at it; outside any git work tree, so `git apply` works as plain patch.
  local work="${XDG_CACHE_HOME:-$HOME/.cache}/eda-shop/dapr-runtime" source
  need_go "$module" daprd
  source=$(cd "$module" && go mod download github.com/dapr/dapr && go list -m -f '{{.Dir}}' github.com/dapr/dapr)
  rm -rf "$work" && mkdir -p "$work"
  cp -r "$source" "$work/dapr" && chmod -R u+w "$work/dapr"
  for patch in "$module"/patches/*.patch; do
    (cd "$work/dapr" && git apply "$patch")
  done
  cp -r "$module/go.mod" "$module/go.sum" "$module/refusedcalls" "$work/"
  (cd "$work" && go mod edit -replace "github.com/dapr/dapr=$work/dapr")
  # daprd must be built with a components tag; without one it panics on start by design.
  go_build "$work" github.com/dapr/dapr/cmd/daprd "$dapr_bin/daprd" \
    -tags stablecomponents \
    -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_RUNTIME_VERSION"
  # The patched app channel never takes a refused call for a success (its patch says why).
  (cd "$work" && go run ./refusedcalls) || { rm -f "$dapr_bin/daprd"; fail "the built daprd failed its check"; }
  echo "$build" > "$stamp"
  rm -rf "$work"
}

setup_shipping() {
  # Always built: Go's build cache makes an unchanged build take a moment.
  step "building apps/shipping (Go)"
  go_build "$root/apps/shipping" . "$root/apps/shipping/bin/shipping"
}

setup_notifications() {
  local app="$root/apps/notifications"
  local stamp="$app/node_modules/.eda-shop-package-lock.json"
  command -v node >/dev/null && command -v npm >/dev/null \
    || fail "Node.js 20 and npm are needed for apps/notifications: install Node.js 20 or newer (Debian 12's nodejs is 18)"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' \
    || fail "Node.js $(node --version) is older than 20: install Node.js 20 or newer"
  if [ -f "$stamp" ] && cmp -s "$app/package-lock.json" "$stamp"; then
    step "apps/notifications packages up to date (node_modules)"
    return
  fi
  step "installing apps/notifications packages with npm ci"
  (cd "$app" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$app/package-lock.json" "$stamp"
}

setup_zipkin() {
  local jar="$HOME/.eda-shop/zipkin/zipkin-server-$ZIPKIN_VERSION.jar"
  local url="https://repo1.maven.org/maven2/io/zipkin/zipkin-server/$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar"
  command -v java >/dev/null \
    || fail "Java 17 or newer is needed for Zipkin, the tracing backend: run 'sudo apt-get install -y openjdk-17-jre-headless'"
  if [ -f "$jar" ] && echo "$ZIPKIN_SHA256  $jar" | sha256sum --check --status; then
    step "Zipkin $ZIPKIN_VERSION already in $(dirname "$jar")"
    return
  fi
  step "downloading Zipkin $ZIPKIN_VERSION from Maven Central"
  mkdir -p "$(dirname "$jar")"
  curl -fsSL --retry 3 -o "$jar.partial" "$url" || fail "could not download $url"
  echo "$ZIPKIN_SHA256  $jar.partial" | sha256sum --check --status \
    || { rm -f "$jar.partial"; fail "$url does not have the sha256 pinned in tools/versions.env"; }
  mv "$jar.partial" "$jar"
}

install_from_debian() {  # install_from_debian PACKAGE WHY: Debian's package, unless its command is there
  if ! command -v "$1" >/dev/null; then
    need_root_for "$1"
    step "installing $1 from Debian ($2)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  fi
}

setup_browser() {
  # Debian's Chromium for the browser tests; Playwright drives it and downloads nothing.
  install_from_debian chromium "for the browser tests"
  step "$(chromium --version 2>/dev/null | head -n1)"
}

setup_iptables() {
  # Debian's iptables: the black holes of make chaos and the reliability tier drop
  # packets on loopback with it (tests/support/network.py).
  install_from_debian iptables "for the black holes of make chaos and the tests"
  step "$(iptables --version)"
}

main() {
  local start=$SECONDS
  timed "redis" setup_redis
  timed "python" setup_venv
  timed "dapr CLI" setup_dapr_cli
  timed "daprd" setup_daprd
  timed "shipping" setup_shipping
  timed "notifications" setup_notifications
  timed "zipkin" setup_zipkin
  case "${1:-}" in
    --for-tests) timed "browser" setup_browser; timed "iptables" setup_iptables ;;
    --for-chaos) timed "iptables" setup_iptables ;;
  esac
  step "set-up complete in $((SECONDS - start))s"
}

main "$@"
