#!/usr/bin/env bash
# What the Kubernetes test tier (tests/k8s) needs besides .venv, installed when missing
# into ~/.eda-shop (EDA_SHOP_TOOLS_DIR overrides), so clones of the project share it:
#   - kustomize, built from the Go module proxy by tools/kustomize;
#   - kube-apiserver, kubectl and etcd, built by tools/kubernetes;
#   - checkov (the policy scanner) in a virtual environment of its own, from
#     tools/checkov/requirements.lock;
#   - the pinned github.com/dapr/dapr module in Go's module cache, whose CRDs, Helm
#     chart and sidecar injector the tests check the Dapr resources against, and
#     dapr-sidecar-injector, built by tools/dapr-runtime/sidecar-injector from it.
# Every version comes from tools/k8s-versions.env. Safe to run again and again.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=k8s-versions.env
source "$root/tools/k8s-versions.env"
# shellcheck source=versions.env
source "$root/tools/versions.env"
tools_dir="${EDA_SHOP_TOOLS_DIR:-$HOME/.eda-shop}"
bin="$tools_dir/bin"

script=setup-k8s
# shellcheck source=lib.sh
source "$root/tools/lib.sh"

setup_kustomize() {
  if [ "$(version_of "$bin/kustomize" version)" = "$KUSTOMIZE_VERSION" ]; then
    step "kustomize $KUSTOMIZE_VERSION already in $bin"
    return
  fi
  step "building kustomize $KUSTOMIZE_VERSION from the Go module proxy"
  go_build "$root/tools/kustomize" sigs.k8s.io/kustomize/kustomize/v5 "$bin/kustomize" -ldflags "-s -w"
}

setup_kubernetes() {
  # The version the binaries report; without it kubectl refuses to compare versions.
  local v="v$KUBERNETES_VERSION" minor
  minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  local stamp="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  if [ "$(version_of "$bin/kube-apiserver" --version)" != "$KUBERNETES_VERSION" ]; then
    step "building kube-apiserver $KUBERNETES_VERSION from the Go module proxy (the first build takes a while)"
    go_build "$root/tools/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$bin/kube-apiserver" -ldflags "$stamp"
  else
    step "kube-apiserver $KUBERNETES_VERSION already in $bin"
  fi
  if [ "$(version_of "$bin/kubectl" version --client)" != "$KUBERNETES_VERSION" ]; then
    step "building kubectl $KUBERNETES_VERSION from the Go module proxy"
    go_build "$root/tools/kubernetes" k8s.io/kubernetes/cmd/kubectl "$bin/kubectl" -ldflags "$stamp"
  else
    step "kubectl $KUBERNETES_VERSION already in $bin"
  fi
  if [ "$(version_of "$bin/etcd" --version)" != "$ETCD_VERSION" ]; then
    step "building etcd $ETCD_VERSION from the Go module proxy"
    go_build "$root/tools/kubernetes" go.etcd.io/etcd/server/v3 "$bin/etcd" -ldflags "-s -w"
  else
    step "etcd $ETCD_VERSION already in $bin"
  fi
}

setup_checkov() {
  local venv="$tools_dir/checkov" lock="$root/tools/checkov/requirements.lock"
  if [ -f "$venv/.requirements.lock" ] && cmp -s "$lock" "$venv/.requirements.lock"; then
    step "checkov environment up to date ($venv)"
    return
  fi
  step "creating the checkov environment from tools/checkov/requirements.lock"
  # Made anew whenever the lock changes, so it holds exactly what the lock says.
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  cp "$lock" "$venv/.requirements.lock"
}

setup_dapr_module() {
  step "github.com/dapr/dapr in Go's module cache"
  (cd "$root/tools/dapr-runtime" && go mod download github.com/dapr/dapr)
  if [ "$(version_of "$bin/dapr-sidecar-injector" --version)" = "$DAPR_RUNTIME_VERSION" ]; then
    step "dapr-sidecar-injector $DAPR_RUNTIME_VERSION already in $bin"
    return
  fi
  step "building dapr-sidecar-injector $DAPR_RUNTIME_VERSION"
  go_build "$root/tools/dapr-runtime" ./sidecar-injector "$bin/dapr-sidecar-injector" -ldflags "-s -w"
}

main() {
  local start=$SECONDS
  timed "kustomize" setup_kustomize
  timed "kubernetes" setup_kubernetes
  timed "checkov" setup_checkov
  timed "dapr module" setup_dapr_module
  step "Kubernetes test tools ready in $((SECONDS - start))s"
}

main "$@"
