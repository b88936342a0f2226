# Helpers the set-up scripts share; sourced, never run. The sourcing script sets
# `script` (its name, for error lines) before sourcing this file.

step() { printf '==> %s\n' "$*"; }
fail() { printf '%s: %s\n' "$script" "$*" >&2; exit 1; }
timed() {  # timed LABEL COMMAND...: run a step and say how long it took
  local label=$1 start=$SECONDS; shift
  "$@"
  printf '    %s: done in %ss\n' "$label" $((SECONDS - start))
}

version_of() {  # version_of BINARY ARGS...: the first x.y.z the binary prints, or nothing
  [ -x "$1" ] && "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

go_build() {  # go_build MODULE_DIR PACKAGE OUTPUT [GO BUILD FLAGS...]
  local dir=$1 pkg=$2 out=$3; shift 3
  command -v go >/dev/null || fail "Go is needed to build $(basename "$out"): run 'sudo apt-get install -y golang' (or install Go >= $(awk '/^go /{print $2}' "$dir/go.mod"))"
  mkdir -p "$(dirname "$out")"
  # Build beside the target, then move: a half-written binary is never left in place.
  (cd "$dir" && go build -trimpath "$@" -o "$out.partial" "$pkg")
  mv "$out.partial" "$out"
}
