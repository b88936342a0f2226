#!/usr/bin/env bash
# A private single-node Kubernetes cluster with the Dapr control plane, and eda-shop on it
# as docs/kubernetes.md deploys it.
#   tools/cluster.sh up     start what is not running, then install Dapr and deploy (again)
#   tools/cluster.sh down   stop everything `up` started; nothing stays running or mounted
# The daemons (containerd, etcd, the API server, controller manager, scheduler, kubelet,
# kube-proxy, and kube-router's network-policy controller) run as this machine's
# processes, their state under ~/.eda-shop/cluster.
# Every address the cluster uses is on its own bridge or in the pods' network namespaces:
# no masquerade, nothing forwarded between the bridge and any other interface, no DNS
# upstream, and the host-side daemons listen on loopback or on the bridge.
# tools/setup-cluster.sh builds and installs what this runs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=versions.env
source "$root/tools/versions.env"
tools_dir="${EDA_SHOP_TOOLS_DIR:-$HOME/.eda-shop}"
bin="$tools_dir/bin"
cluster_dir="$tools_dir/cluster"
state="$cluster_dir/state"        # certificates, etcd, kubelet; removed by `down`
images="$cluster_dir/images"      # what tools/images.sh wrote
logs="$cluster_dir/logs"
run_dir=/run/eda-shop-cluster     # sockets, pid files, containerd's state
export KUBECONFIG="$state/admin.kubeconfig"
export PATH="$bin:$PATH"

script=cluster
# shellcheck source=lib.sh
source "$root/tools/lib.sh"

# The network: the node is the bridge's own address; the pods are the bridge's subnet;
# Services take addresses that exist only in kube-proxy's rules.
BRIDGE=eda-shop0
NODE_IP=10.217.0.1
POD_CIDR=10.217.0.0/24
SERVICE_CIDR=10.217.128.0/20
API_SERVICE_IP=10.217.128.1
DNS_SERVICE_IP=10.217.128.10  # also in tools/cluster/coredns.yaml
NODE_NAME=eda-shop
API_SERVER="https://$NODE_IP:6443"
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
# The host ports the daemons take, on loopback or the bridge, checked before they start.
HOST_PORTS=("$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" 6443 10248 10249 10250 10256 10257 10259)
DAPR_CHART="$(go env GOMODCACHE)/github.com/dapr/dapr@v$DAPR_RUNTIME_VERSION/charts/dapr"

running() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

# start NAME COMMAND...: a daemon in its own session, so Ctrl-C at `make` leaves it be.
start() {
  local name=$1; shift
  if running "$name"; then
    return
  fi
  setsid "$@" >"$logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$run_dir/$name.pid"
}

# write_config FILE: standard input into FILE, unless FILE says that already: kube-proxy
# exits when its configuration file is written to.
write_config() {
  local new="$1.new"
  cat > "$new"
  if cmp -s "$new" "$1"; then rm "$new"; else mv "$new" "$1"; fi
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds; fail naming the log to read.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what not ready after ${seconds}s; see $logs/"
    sleep 0.5
  done
}

preflight() {
  [ "$(id -u)" -eq 0 ] || fail "a kubelet and containerd need root: run 'sudo make cluster'"
  grep -qw overlay /proc/filesystems \
    || fail "the kernel has no overlay filesystem, which containerd's images need: run 'modprobe overlay'"
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] \
    || fail "the kernel has no br_netfilter, which Services between pods need: run 'modprobe br_netfilter'"
  local name
  for name in kubelet kube-controller-manager kube-scheduler kube-proxy kube-router helm; do
    [ -x "$bin/$name" ] || fail "$bin/$name is missing: run 'make cluster' (tools/setup-cluster.sh builds it)"
  done
  if running kube-apiserver; then
    return  # a cluster of ours is up: `up` goes on from where it is
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    fail "the bridge $BRIDGE of an earlier cluster is still there: run 'make cluster-down' first"
  fi
  local port holder
  for port in "${HOST_PORTS[@]}"; do
    holder=$(ss -Hltnp "sport = :$port" | head -n1)
    [ -z "$holder" ] || fail "port $port, which the cluster needs, is taken: $holder; stop that process (or 'make cluster-down' if it is an earlier cluster's)"
  done
}

network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # Pods reach Services through the node's NAT rules: the bridge's traffic must pass
  # iptables, and the node must route between the bridge and itself. Routing anywhere
  # else is refused by the chain below, so pods reach nothing outside the machine.
  [ -f "$state/ip_forward" ] || cat /proc/sys/net/ipv4/ip_forward > "$state/ip_forward"
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
  if ! iptables -w -nL EDA-SHOP-ISOLATION >/dev/null 2>&1; then
    iptables -w -N EDA-SHOP-ISOLATION
    iptables -w -A EDA-SHOP-ISOLATION -i "$BRIDGE" -o "$BRIDGE" -j RETURN
    iptables -w -A EDA-SHOP-ISOLATION -i "$BRIDGE" -j DROP
    iptables -w -A EDA-SHOP-ISOLATION -o "$BRIDGE" -j DROP
    iptables -w -I FORWARD 1 -j EDA-SHOP-ISOLATION
  fi
  mkdir -p "$state/cni"
  write_config "$state/cni/10-eda-shop.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "eda-shop",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": {
      "type": "host-local", "dataDir": "$state/cni-ipam",
      "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
CNI
}

# sign NAME SUBJECT [SANS]: a key and a certificate signed by the cluster's CA.
sign() {
  local name=$1 subject=$2 sans=${3:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
    -keyout "$state/pki/$name.key" -out "$state/pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$state/pki/$name.csr" -CA "$state/pki/ca.crt" -CAkey "$state/pki/ca.key" \
    -CAcreateserial -days 365 -out "$state/pki/$name.crt" \
    -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n%s' \
      "${sans:+subjectAltName=$sans}") 2>/dev/null
}

kubeconfig() {  # kubeconfig NAME: a kubeconfig for the client certificate NAME
  local file="$state/$1.kubeconfig"
  kubectl config set-cluster eda-shop --server "$API_SERVER" --certificate-authority "$state/pki/ca.crt" --embed-certs --kubeconfig "$file" >/dev/null
  kubectl config set-credentials "$1" --client-certificate "$state/pki/$1.crt" --client-key "$state/pki/$1.key" --embed-certs --kubeconfig "$file" >/dev/null
  kubectl config set-context eda-shop --cluster eda-shop --user "$1" --kubeconfig "$file" >/dev/null
  kubectl config use-context eda-shop --kubeconfig "$file" >/dev/null
}

certificates() {
  [ -f "$state/admin.kubeconfig" ] && return
  mkdir -p "$state/pki"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=eda-shop-cluster-ca" -keyout "$state/pki/ca.key" -out "$state/pki/ca.crt" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$API_SERVICE_IP,IP:$NODE_IP,IP:127.0.0.1"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  sign kubelet-serving "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
  sign admin "/O=system:masters/CN=eda-shop-admin"
  sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  sign controller-manager "/CN=system:kube-controller-manager"
  sign scheduler "/CN=system:kube-scheduler"
  sign kube-proxy "/CN=system:kube-proxy"
  sign kube-router "/CN=eda-shop:kube-router"
  openssl genrsa -out "$state/pki/service-account.key" 2048 2>/dev/null
  openssl rsa -in "$state/pki/service-account.key" -pubout -out "$state/pki/service-account.pub" 2>/dev/null
  local name
  for name in controller-manager scheduler kubelet kube-proxy kube-router admin; do
    kubeconfig "$name"
  done
}

containerd_up() {
  mkdir -p "$run_dir" "$cluster_dir/containerd"
  write_config "$state/containerd.toml" <<TOML
version = 2
root = "$cluster_dir/containerd"
state = "$run_dir/containerd"
[grpc]
  address = "$run_dir/containerd.sock"
[ttrpc]
  address = "$run_dir/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:eda-shop"
  # runc may not lower a container's oom_score_adj on a machine without CAP_SYS_RESOURCE.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  # The pods' network namespaces under the state folder, where down() finds them.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni"
TOML
  start containerd containerd --config "$state/containerd.toml"
  wait_for containerd 30 ctr --address "$run_dir/containerd.sock" version
}

# Each image tools/images.sh wrote, imported once: a stamp beside the tar records which
# build was imported last.
import_images() {
  local tar imported
  for tar in "$images"/*.tar; do
    imported="$cluster_dir/containerd/imported-$(basename "$tar" .tar)"
    cmp -s "$tar.id" "$imported" 2>/dev/null && continue
    ctr --address "$run_dir/containerd.sock" -n k8s.io images import "$tar" >/dev/null
    cp "$tar.id" "$imported"
  done
}

control_plane_up() {
  local pki="$state/pki"
  start etcd "$bin/etcd" --data-dir "$state/etcd" --log-level warn \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls ""
  start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port 6443 \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/service-account.pub" --service-account-signing-key-file "$pki/service-account.key"
  wait_for "the API server" 60 kubectl get --raw /readyz
  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/service-account.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key"
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
}

node_up() {
  # Pods that ask for the node's DNS get this: no nameserver, so nothing leaves the machine.
  echo "search cluster.local" | write_config "$state/resolv.conf"
  write_config "$state/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $state/pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $state/pki/kubelet-serving.crt
tlsPrivateKeyFile: $state/pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$run_dir/containerd.sock
# This machine has cgroup v1 and no systemd.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
resolvConf: $state/resolv.conf
podLogsDir: $state/pod-logs
YAML
  start kubelet "$bin/kubelet" --config "$state/kubelet.yaml" --kubeconfig "$state/kubelet.kubeconfig" \
    --root-dir "$state/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  write_config "$state/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
# Leave the machine's conntrack settings as they are.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  start kube-proxy "$bin/kube-proxy" --config "$state/kube-proxy.yaml"
  wait_for "the node" 60 kubectl wait --for condition=Ready "node/$NODE_NAME" --timeout 2s
  # The bridge enforces no NetworkPolicy: kube-router's controller does, in iptables,
  # and nothing else of it runs (no routes, no proxy, no CNI of its own). It starts
  # once the node it serves is there.
  kubectl apply -f "$root/tools/cluster/network-policies.yaml" >/dev/null
  start kube-router "$bin/kube-router" --kubeconfig "$state/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall --run-router=false --run-service-proxy=false --enable-cni=false \
    --health-port 0 --metrics-port 0
}

cluster_addons() {
  kubectl apply -f "$root/tools/cluster/coredns.yaml" >/dev/null
  # Redis's volume: a folder of this machine, for the one claim the StatefulSet makes.
  mkdir -p "$state/volumes/redis"
  chown 10002:10002 "$state/volumes/redis"
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: eda-shop-redis-data}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  claimRef: {namespace: eda-shop, name: data-redis-0}
  hostPath: {path: $state/volumes/redis, type: Directory}
YAML
  kubectl -n kube-system rollout status deployment/coredns --timeout 120s >/dev/null
}

# docs/kubernetes.md step 2, from the chart in the pinned module, with the images tools/images.sh
# built and no volumes (this cluster has no storage provisioner).
install_dapr() {
  helm upgrade --install dapr "$DAPR_CHART" \
    --namespace dapr-system --create-namespace --wait \
    --set global.mtls.enabled=true \
    --set dapr_sidecar_injector.sidecarDropALLCapabilities=true \
    --set global.registry=localhost/dapr --set global.tag="$DAPR_RUNTIME_VERSION" \
    --set global.imagePullPolicy=Never --set dapr_sidecar_injector.sidecarImagePullPolicy=Never \
    --set dapr_scheduler.cluster.inMemoryStorage=true --set dapr_placement.cluster.forceInMemoryLog=true \
    >/dev/null
}

# docs/kubernetes.md steps 3 and 4, as written; the secrets once, so a second `up` keeps them.
deploy() {
  cd "$root"
  kubectl apply -f k8s/base/namespace.yaml
  if ! kubectl -n eda-shop get secret redis >/dev/null 2>&1; then
    kubectl -n eda-shop create secret generic redis --from-literal=password="$(openssl rand -hex 32)"
    for app in $(sed -n 's/^  - appID: //p' dapr.yaml); do
      kubectl -n eda-shop create secret generic "$app-app-api-token" --from-literal=token="$(openssl rand -hex 32)"
      kubectl -n eda-shop create secret generic "$app-dapr-api-token" --from-literal=token="$(openssl rand -hex 32)"
    done
  fi
  if ! kubectl -n eda-shop get secret storefront-operator-token >/dev/null 2>&1; then
    kubectl -n eda-shop create secret generic storefront-operator-token --from-literal=token="$(openssl rand -hex 32)"
  fi
  kubectl apply -k k8s/
  kubectl -n eda-shop rollout status --timeout 5m statefulset/redis
  kubectl -n eda-shop rollout status --timeout 5m deployment -l app.kubernetes.io/part-of=eda-shop
}

up() {
  preflight
  mkdir -p "$state" "$logs" "$run_dir"
  timed "network" network_up
  timed "certificates" certificates
  timed "containerd" containerd_up
  timed "images" import_images
  timed "control plane" control_plane_up
  timed "node" node_up
  timed "DNS and Redis's volume" cluster_addons
  timed "Dapr control plane" install_dapr
  timed "eda-shop" deploy
  cat <<INFO
==> eda-shop runs on the cluster
    kubeconfig   export KUBECONFIG=$KUBECONFIG
    kubectl      $bin/kubectl (export PATH=$bin:\$PATH)
    storefront   kubectl -n eda-shop port-forward service/storefront 8080:80, then http://127.0.0.1:8080
                 (docs/kubernetes.md, step 5)
    logs         $logs/ (the daemons); kubectl -n eda-shop logs deployment/orders -c daprd
    stop         make cluster-down
INFO
}

# stop NAME: the daemon `up` started, by its pid.
stop() {
  stop_pid_file "$run_dir/$1.pid" kill
}

# The pods' containers, through containerd: killed, then forgotten, so the next start
# finds no sandbox to restore.
remove_containers() {
  running containerd || return 0
  local ctr=(ctr --address "$run_dir/containerd.sock" -n k8s.io) id
  for id in $("${ctr[@]}" tasks ls -q); do
    "${ctr[@]}" tasks kill -s SIGKILL "$id" 2>/dev/null || true
  done
  for id in $("${ctr[@]}" tasks ls -q); do
    "${ctr[@]}" tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $("${ctr[@]}" containers ls -q); do
    "${ctr[@]}" containers delete "$id" >/dev/null 2>&1 || true
  done
}

# What kubelet and kube-proxy added to iptables and ip6tables: the rules that jump to a
# KUBE-… chain, then those chains. kube-proxy --cleanup removes its own, not kubelet's.
remove_kube_rules() {
  local command table rule chain
  for command in iptables ip6tables; do
    for table in filter nat mangle; do
      { "$command-save" -t "$table" | grep -E '^-A [A-Z]+ .*-j KUBE-' || true; } | while read -r rule; do
        eval "$command -w -t $table ${rule/-A/-D}"  # eval: the rule's comment is quoted
      done
      for chain in $("$command-save" -t "$table" | sed -n 's/^:\(KUBE-[^ ]*\).*/\1/p'); do
        "$command" -w -t "$table" -F "$chain"
      done
      for chain in $("$command-save" -t "$table" | sed -n 's/^:\(KUBE-[^ ]*\).*/\1/p'); do
        "$command" -w -t "$table" -X "$chain"
      done
    done
  done
}

unmount_under() {  # unmount_under DIR: every mount below DIR, the deepest first
  local target
  for target in $(findmnt -rn -o TARGET | grep -F "$1" | sort -r || true); do
    umount -l "$target" 2>/dev/null || true
  done
}

down() {
  [ "$(id -u)" -eq 0 ] || fail "stopping the cluster needs root: run 'sudo make cluster-down'"
  local name
  for name in kube-router kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop "$name"
  done
  remove_containers
  stop containerd
  # The mounts of the pods (their volumes, root filesystems and network namespaces), the
  # bridge, the rules kube-proxy, kube-router, kubelet and `up` added, the pods' cgroups.
  unmount_under "$state/"
  unmount_under "$run_dir/"
  ip link delete "$BRIDGE" 2>/dev/null || true
  [ -x "$bin/kube-proxy" ] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  remove_kube_rules
  [ -x "$bin/kube-router" ] && "$bin/kube-router" --cleanup-config >/dev/null 2>&1 || true
  if iptables -w -nL EDA-SHOP-ISOLATION >/dev/null 2>&1; then
    iptables -w -D FORWARD -j EDA-SHOP-ISOLATION
    iptables -w -F EDA-SHOP-ISOLATION
    iptables -w -X EDA-SHOP-ISOLATION
  fi
  [ -f "$state/ip_forward" ] && sysctl -qw net.ipv4.ip_forward="$(cat "$state/ip_forward")"
  find /sys/fs/cgroup -depth -type d -path '*/kubepods*' -exec rmdir {} + 2>/dev/null || true
  rm -rf "$state" "$run_dir"
  step "cluster stopped; images stay in $cluster_dir/containerd for the next 'make cluster'"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: tools/cluster.sh up|down" >&2; exit 2 ;;
esac
