# CoreDNS, the cluster's DNS (tools/cluster/coredns.yaml): the static binary that
# tools/setup-cluster.sh builds, alone, as in CoreDNS's own image.
FROM scratch
COPY coredns /coredns
USER 65532:65532
ENTRYPOINT ["/coredns"]
