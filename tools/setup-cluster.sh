#!/usr/bin/env bash
# What `make cluster` needs besides tools/setup.sh and tools/setup-k8s.sh, installed when
# missing, and skipped when present:
#   - from Debian: containerd, runc, the CNI plugins, iptables, ipset, conntrack, and
#     buildah and mmdebstrap for the images;
#   - kubelet, kube-controller-manager, kube-scheduler and kube-proxy, built by
#     tools/kubernetes (the module that builds kube-apiserver) into ~/.eda-shop/bin;
#   - Helm (tools/helm) and kube-router (tools/network-policies), whose network-policy
#     controller enforces the NetworkPolicies, into ~/.eda-shop/bin;
#   - the Dapr control plane (operator, injector, sentry, placement, scheduler) from the
#     pinned github.com/dapr/dapr module (tools/dapr-runtime), CoreDNS (tools/coredns)
#     and the pods' pause process (tools/pause) into ~/.eda-shop/cluster/bin;
#   - every image, from the Dockerfiles (tools/images.sh).
# Every version comes from tools/versions.env and tools/k8s-versions.env.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=k8s-versions.env
source "$root/tools/k8s-versions.env"
# shellcheck source=versions.env
source "$root/tools/versions.env"
tools_dir="${EDA_SHOP_TOOLS_DIR:-$HOME/.eda-shop}"
bin="$tools_dir/bin"
cluster_bin="$tools_dir/cluster/bin"

script=setup-cluster
# shellcheck source=lib.sh
source "$root/tools/lib.sh"

# Debian's package for each command the cluster runs.
DEBIAN_PACKAGES=(
  containerd:containerd runc:runc iptables:iptables ipset:ipset conntrack:conntrack
  buildah:buildah mmdebstrap:mmdebstrap
)

setup_debian_packages() {
  local missing=() entry
  for entry in "${DEBIAN_PACKAGES[@]}"; do
    command -v "${entry%%:*}" >/dev/null || missing+=("${entry#*:}")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  if [ ${#missing[@]} -eq 0 ]; then
    step "containerd $(containerd --version | awk '{print $3}'), runc, the CNI plugins, buildah, mmdebstrap"
    return
  fi
  [ "$(id -u)" -eq 0 ] || fail "missing: ${missing[*]}; run 'sudo apt-get install -y ${missing[*]}'"
  step "installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# go_build_many MODULE_DIR OUTPUT_DIR LDFLAGS PACKAGE...: one `go build` for several
# commands of a module, so they share its compile; each lands whole or not at all.
go_build_many() {
  local dir=$1 out=$2 ldflags=$3 partial; shift 3
  need_go "$dir" "$*"
  partial=$(mktemp -d "$out.partial.XXXXXX")
  (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$partial/" "$@")
  mv "$partial"/* "$out/"
  rmdir "$partial"
}

setup_kubernetes_node() {
  local v="v$KUBERNETES_VERSION" minor stamp="-s -w" missing=() name
  minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for name in kubelet kube-controller-manager kube-scheduler kube-proxy; do
    [ "$(version_of "$bin/$name" --version)" = "$KUBERNETES_VERSION" ] || missing+=("k8s.io/kubernetes/cmd/$name")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    step "kubelet, kube-controller-manager, kube-scheduler, kube-proxy $KUBERNETES_VERSION already in $bin"
    return
  fi
  step "building ${missing[*]##*/} $KUBERNETES_VERSION from the Go module proxy (the first build takes a while)"
  mkdir -p "$bin"
  go_build_many "$root/tools/kubernetes" "$bin" "$stamp" "${missing[@]}"
}

setup_helm() {
  if [ "$(version_of "$bin/helm" version --short)" = "$HELM_VERSION" ]; then
    step "Helm $HELM_VERSION already in $bin"
    return
  fi
  step "building Helm $HELM_VERSION from the Go module proxy"
  go_build "$root/tools/helm" helm.sh/helm/v4/cmd/helm "$bin/helm" \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION"
}

setup_dapr_control_plane() {
  # Its binaries print no version: a stamp records the module graph they were built from.
  local module="$root/tools/dapr-runtime" stamp="$cluster_bin/.dapr-control-plane" build
  build=$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$build" ]; then
    step "Dapr control plane $DAPR_RUNTIME_VERSION already in $cluster_bin"
    return
  fi
  step "building the Dapr control plane $DAPR_RUNTIME_VERSION (operator, injector, sentry, placement, scheduler)"
  mkdir -p "$cluster_bin"
  go_build_many "$module" "$cluster_bin" "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_RUNTIME_VERSION" \
    github.com/dapr/dapr/cmd/{operator,injector,sentry,placement,scheduler}
  echo "$build" > "$stamp"
}

setup_coredns() {
  if [ "$(version_of "$cluster_bin/coredns" -version)" = "$COREDNS_VERSION" ]; then
    step "CoreDNS $COREDNS_VERSION already in $cluster_bin"
    return
  fi
  step "building CoreDNS $COREDNS_VERSION from the Go module proxy"
  # Static: it runs in an image with nothing else in it.
  CGO_ENABLED=0 go_build "$root/tools/coredns" github.com/coredns/coredns "$cluster_bin/coredns" -ldflags "-s -w"
}

setup_network_policies() {
  if [ "$(version_of "$bin/kube-router" --version)" = "$KUBE_ROUTER_VERSION" ]; then
    step "kube-router $KUBE_ROUTER_VERSION already in $bin"
    return
  fi
  step "building kube-router $KUBE_ROUTER_VERSION from the Go module proxy"
  go_build "$root/tools/network-policies" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$bin/kube-router" \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION"
}

setup_pause() {
  step "building the pause process (tools/pause)"
  CGO_ENABLED=0 go_build "$root/tools/pause" . "$cluster_bin/pause" -ldflags "-s -w"
}

main() {
  local start=$SECONDS
  timed "debian packages" setup_debian_packages
  timed "kubernetes node" setup_kubernetes_node
  timed "helm" setup_helm
  timed "dapr control plane" setup_dapr_control_plane
  timed "coredns" setup_coredns
  timed "network policies" setup_network_policies
  timed "pause" setup_pause
  timed "images" "$root/tools/images.sh"
  step "cluster tools ready in $((SECONDS - start))s"
}

main "$@"
