#!/usr/bin/env bash
# Builds the images of eda-shop's cluster with buildah (no Docker engine, no registry)
# and writes each as a docker-archive into ~/.eda-shop/cluster/images (EDA_SHOP_TOOLS_DIR
# overrides), which tools/cluster.sh imports into containerd:
#   tools/images.sh        every image:
#     - every app of dapr.yaml, from its own Dockerfile, on local bases in place of the public
#       ones: Debian root filesystems (mmdebstrap) with Debian's Python (3.11.2; the
#       public image has 3.11.14), this machine's Node.js and Go (the releases the
#       Dockerfiles name), and Debian's busybox alone in place of Alpine;
#     - Redis from Debian's package, the Dapr sidecar and control plane, CoreDNS and
#       the pods' pause process, from the Dockerfiles in tools/cluster/images;
#   tools/images.sh apps   the apps only.
# A base is built once for the same inputs and build steps are cached (--layers); a tar
# is rewritten only when its image changed, and <tar>.id names the image it holds.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/tools/versions.env"
# shellcheck source=k8s-versions.env
source "$root/tools/k8s-versions.env"
cluster_dir="${EDA_SHOP_TOOLS_DIR:-$HOME/.eda-shop}/cluster"
cluster_bin="$cluster_dir/bin"
out="$cluster_dir/images"
dapr_bin="${DAPR_INSTALL_DIR:-$HOME/.dapr/bin}"

script=images
# shellcheck source=lib.sh
source "$root/tools/lib.sh"

mapfile -t APPS < <(app_ids)
DAPR_SERVICES=(operator injector sentry placement scheduler)
# As in the public slim images: a merged /usr set up as debootstrap does (the usrmerge
# package would bring perl), and no recommended packages, manuals, translations, nor
# documentation but the copyright notices.
SLIM=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright')
# The PATH the public Debian-based images set.
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# RUN steps trust what this machine trusts (here, a proxy that inspects TLS): the host's
# CA bundle is mounted over the image's while they run, and is never part of an image.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

declare -A base  # name -> reference of the local base image
missing=()       # binaries not built yet, each with what builds it

# quietly WHAT COMMAND...: run COMMAND, showing its output only if it fails.
quietly() {
  local what=$1; shift
  "$@" >"$work/output.log" 2>&1 || { cat "$work/output.log" >&2; fail "could not $what (the output is above)"; }
}

preflight() {
  [ "$(id -u)" -eq 0 ] || fail "buildah's image store and mmdebstrap's chroot need root: run 'sudo tools/images.sh'"
  local tool
  for tool in buildah mmdebstrap; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run 'sudo apt-get install -y $tool'"
  done
  need_go "$root/apps/shipping" "the shipping image"
  command -v node >/dev/null && command -v npm >/dev/null \
    || fail "Node.js 20 and npm are needed for the notifications image: install Node.js 20 or newer"
}

# build_base NAME SUITE MMDEBSTRAP_OPTIONS... [-- BUILDAH_CONFIG_OPTIONS...]: base[NAME],
# a root filesystem of Debian's SUITE with its updates and security fixes, tagged with a
# hash of everything it is made from, built only when no image of that tag exists
# (remove it to take in Debian's newer updates).
build_base() {
  local name=$1 suite=$2 ref; shift 2
  local sources=("deb http://deb.debian.org/debian $suite main" "deb http://deb.debian.org/debian $suite-updates main"
    "deb http://deb.debian.org/debian-security $suite-security main")
  ref="localhost/eda-shop-base/$name:$(printf '%s\n' "$@" "${sources[@]}" | sha256sum | cut -c1-16)"
  base[$name]=$ref
  buildah inspect --type image "$ref" >/dev/null 2>&1 && return
  local options=() config=(--env "PATH=$DEFAULT_PATH") ctr
  while [ $# -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
  [ $# -eq 0 ] || config+=("${@:2}")
  step "building $ref from Debian's packages"
  quietly "build $ref" mmdebstrap "${options[@]}" "$suite" "$work/$name.tar" "${sources[@]}"
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$work/$name.tar" / >/dev/null
  buildah config "${config[@]}" "$ctr"
  buildah commit --quiet --rm "$ctr" "$ref" >/dev/null
  rm "$work/$name.tar"
}

# A hook's $1 is the root filesystem being built, expanded by mmdebstrap's shell.
# shellcheck disable=SC2016
build_bases() {
  local node node_version npm npm_dir goroot go_version
  node=$(command -v node) node_version=$(node --version)
  npm=$(readlink -f "$(command -v npm)") npm_dir=${npm%/bin/*}
  goroot=$(go env GOROOT) go_version=$(go env GOVERSION)
  build_base debian bookworm --variant=minbase --include=ca-certificates "${SLIM[@]}"
  build_base python bookworm --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates "${SLIM[@]}"
  # Debian 12's nodejs is 18: this machine's Node.js and npm instead (npm's version in a
  # label, so that a newer npm makes a new base). Node trusts the system's CA bundle too,
  # as Debian's own nodejs does, so npm passes the proxy; npm looks for no newer npm.
  build_base node bookworm --variant=minbase --include=ca-certificates "${SLIM[@]}" \
    --customize-hook="copy-in $node /usr/bin" --customize-hook='mkdir -p "$1/usr/lib/node_modules/npm"' \
    --customize-hook="sync-in $npm_dir /usr/lib/node_modules/npm" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"' \
    -- --env "NODE_VERSION=${node_version#v}" --env "NODE_EXTRA_CA_CERTS=$CA_BUNDLE" \
    --env NPM_CONFIG_UPDATE_NOTIFIER=false --label "npm-version=$(npm --version)"
  # This machine's Go, set up as the public golang image sets up its own.
  build_base go bookworm --variant=minbase --include=ca-certificates "${SLIM[@]}" \
    --customize-hook='mkdir "$1/usr/local/go" && mkdir -m 1777 "$1/go"' --customize-hook="sync-in $goroot /usr/local/go" \
    -- --env "GOLANG_VERSION=${go_version#go}" --env GOTOOLCHAIN=local --env GOPATH=/go \
    --env "PATH=/go/bin:/usr/local/go/bin:$DEFAULT_PATH" --workingdir /go
  # Only busybox and a link for each of its commands (wget for the probes, sh to look
  # around): as small as Alpine. Debian 13's, busybox 1.37 as in Alpine 3.22: Debian 12's
  # wget crashes when given a timeout (-T), as the probes do.
  build_base busybox trixie --variant=extract --include=busybox-static \
    --extract-hook='ln -s usr/bin "$1/bin"' \
    --extract-hook='for command in $("$1/bin/busybox" --list | grep -vx busybox); do ln -s busybox "$1/bin/$command"; done'
  # Only glibc's files, which the Dapr binaries link against.
  build_base glibc bookworm --variant=extract --include=libc6
}

# bud REF BUILDAH_BUD_OPTIONS... CONTEXT: REF built from a Dockerfile on the local bases.
# The RUN steps share the host's network: buildah's own would add a bridge and
# masquerading rules to the host's iptables, which the cluster keeps free of them.
bud() {
  local ref=$1; shift
  quietly "build $ref" buildah bud --layers --pull=never --network host --volume "$CA_BUNDLE:$CA_BUNDLE:ro" \
    --build-arg "PYTHON_IMAGE=${base[python]}" --build-arg "NODE_IMAGE=${base[node]}" \
    --build-arg "GO_IMAGE=${base[go]}" --build-arg "BUSYBOX_IMAGE=${base[busybox]}" \
    --build-arg "DEBIAN_IMAGE=${base[debian]}" --build-arg "GLIBC_IMAGE=${base[glibc]}" \
    -t "$ref" "$@"
}

# export_image NAME REF: REF into NAME.tar under that very name, unless the tar has it already.
export_image() {
  local tar="$out/$1.tar" id
  id=$(buildah inspect --type image --format '{{.FromImageID}}' "$2")
  if [ -f "$tar" ] && [ "$(cat "$tar.id" 2>/dev/null)" = "$id" ]; then
    step "$2 unchanged"
    return
  fi
  mkdir -p "$out"
  rm -f "$tar.partial"
  buildah push --quiet "$2" "docker-archive:$tar.partial:$2"
  mv "$tar.partial" "$tar"
  echo "$id" > "$tar.id"
  step "$2 written to $tar"
}

# manifest_image FILE: the image FILE's first container runs, fully qualified as kubelet
# looks it up (a name without a registry is Docker Hub's; without a path, its library's).
manifest_image() {
  local image
  image=$(awk '$1 == "image:" {print $2; exit}' "$1")
  case $image in
    *.*/* | *:*/* | localhost/*) echo "$image" ;;
    */*) echo "docker.io/$image" ;;
    *) echo "docker.io/library/$image" ;;
  esac
}

build_apps() {
  local app ref
  for app in "${APPS[@]}"; do
    ref=$(manifest_image "$root/k8s/base/apps/$app.yaml")
    bud "$ref" -f "$root/apps/$app/Dockerfile" "$root"
    export_image "$app" "$ref"
  done
}

build_redis() {
  local ref version
  ref=$(manifest_image "$root/k8s/base/redis.yaml")
  version=${ref##*:} version=${version%%-*}
  bud "$ref" -f "$root/tools/cluster/images/redis.Dockerfile" --build-arg "REDIS_VERSION=$version" \
    "$root/tools/cluster/images"
  export_image redis "$ref"
}

# build_binary_image NAME REF BINARY BUILT_BY [BUILDAH_BUD_OPTIONS...]: REF from
# tools/cluster/images/<Dockerfile>, with BINARY alone in the build context.
build_binary_image() {
  local name=$1 ref=$2 binary=$3 built_by=$4 context; shift 4
  if [ ! -x "$binary" ]; then
    missing+=("$binary (built by $built_by)")
    return
  fi
  context=$(mktemp -d "$work/$name.XXXXXX")
  cp "$binary" "$context/"
  bud "$ref" "$@" "$context"
  export_image "$name" "$ref"
}

build_cluster_images() {
  local images="$root/tools/cluster/images" service
  build_binary_image dapr-daprd "localhost/dapr/daprd:$DAPR_RUNTIME_VERSION" "$dapr_bin/daprd" \
    tools/setup.sh -f "$images/dapr.Dockerfile" --build-arg NAME=daprd
  for service in "${DAPR_SERVICES[@]}"; do
    build_binary_image "dapr-$service" "localhost/dapr/$service:$DAPR_RUNTIME_VERSION" "$cluster_bin/$service" \
      tools/setup-cluster.sh -f "$images/dapr.Dockerfile" --build-arg "NAME=$service"
  done
  build_binary_image coredns "localhost/coredns:$COREDNS_VERSION" "$cluster_bin/coredns" \
    tools/setup-cluster.sh -f "$images/coredns.Dockerfile"
  build_binary_image pause localhost/pause:eda-shop "$cluster_bin/pause" \
    tools/setup-cluster.sh -f "$images/pause.Dockerfile"
}

main() {
  local start=$SECONDS
  [[ "${1:-}" =~ ^(apps)?$ ]] || fail "usage: tools/images.sh [apps]"
  preflight
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  timed "bases" build_bases
  timed "apps" build_apps
  if [ "${1:-}" != apps ]; then
    timed "redis" build_redis
    timed "dapr, coredns, pause" build_cluster_images
  fi
  [ ${#missing[@]} -eq 0 ] || fail "not built yet, so neither are their images:$(printf '\n  %s' "${missing[@]}")"
  step "images ready in $out in $((SECONDS - start))s"
}

main "$@"
