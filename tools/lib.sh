# Helpers the set-up scripts and the private servers' scripts share; sourced, never run.
# A script that calls `fail` sets `script` (its name, for error lines) before sourcing.

step() { printf '==> %s\n' "$*"; }
fail() { printf '%s: %s\n' "$script" "$*" >&2; exit 1; }
timed() {  # timed LABEL COMMAND...: run a step and say how long it took
  local label=$1 start=$SECONDS; shift
  "$@"
  printf '    %s: done in %ss\n' "$label" $((SECONDS - start))
}

app_ids() {  # app_ids: every app's id, as dapr.yaml lists them (one per line)
  sed -n 's/^  - appID: //p' "$root/dapr.yaml"
}

version_of() {  # version_of BINARY ARGS...: the first x.y.z the binary prints (on either stream), or nothing
  [ -x "$1" ] && "$@" 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

need_go() {  # need_go MODULE_DIR WHAT: fail, saying how to get Go, if it is missing
  command -v go >/dev/null || fail "Go is needed to build $2: run 'sudo apt-get install -y golang' (or install Go >= $(awk '/^go /{print $2}' "$1/go.mod"))"
}

go_build() {  # go_build MODULE_DIR PACKAGE OUTPUT [GO BUILD FLAGS...]
  local dir=$1 pkg=$2 out=$3; shift 3
  need_go "$dir" "$(basename "$out")"
  mkdir -p "$(dirname "$out")"
  # Build beside the target, then move: a half-written binary is never left in place.
  (cd "$dir" && go build -trimpath "$@" -o "$out.partial" "$pkg")
  mv "$out.partial" "$out"
}

stop_pid_file() {  # stop_pid_file FILE [kill]: SIGTERM the pid in FILE and wait up to 10 s
  # for it to go, then forget FILE; with `kill`, SIGKILL it if it is still there
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "${2:-}" = kill ]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$1"
}
