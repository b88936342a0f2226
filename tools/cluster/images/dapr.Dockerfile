# One Dapr binary, the sidecar (daprd) or a control-plane service, at /NAME: the path the
# Dapr Helm chart and the sidecar injector run it from. The build context holds the
# binary alone. The binaries are built with cgo, so the base has glibc.
ARG GLIBC_IMAGE=gcr.io/distroless/base-debian12:nonroot
FROM ${GLIBC_IMAGE}
ARG NAME
COPY ${NAME} /${NAME}
# By number, so Kubernetes can check the chart's runAsNonRoot.
USER 65532:65532
