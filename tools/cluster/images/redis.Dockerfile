# Redis from Debian's package, the release the local set-up runs (tools/setup.sh), as
# k8s/base/redis.yaml runs it: `redis-server` and its flags as the arguments (so no
# entrypoint), on a read-only root with its data in /data.
# tools/images.sh builds it with REDIS_VERSION from that manifest's image tag.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
ARG REDIS_VERSION=7.0.15
RUN apt-get update \
 && apt-get install -y --no-install-recommends "redis-server=5:${REDIS_VERSION}-*" \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o 10002 -g 10002 /data
WORKDIR /data
# The uid the manifest gives it, by number, so Kubernetes can check runAsNonRoot.
USER 10002:10002
EXPOSE 6379
CMD ["redis-server"]
