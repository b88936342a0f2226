# The process that holds each pod's namespaces (containerd's sandbox_image): the static
# binary that tools/setup-cluster.sh builds from tools/pause, alone, as in Kubernetes's
# own pause image.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
