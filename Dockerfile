# syntax=docker/dockerfile:1
# agno-session: the AgentOS /sessions API served from PostgreSQL.
#
#   docker build -t agno-session:0.1.0 .
#   docker run --rm -p 8080:8080 -e AGNO_PG_DSN=postgresql://... agno-session:0.1.0
#
# Stage 1 builds wheels for the service and all of its dependencies; stage 2 installs them
# into a clean slim image (no compilers, no build tools, no source tree) and runs as a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY setup.py pyproject.toml ./
COPY service/ service/
COPY sql/ sql/
RUN pip wheel --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="agno-session" \
      org.opencontainers.image.description="The Agno AgentOS /sessions REST API served from PostgreSQL" \
      org.opencontainers.image.version="${VERSION}"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    AGNO_SERVICE_HOST=0.0.0.0 \
    AGNO_SERVICE_PORT=8080

# /app is made here, not left to WORKDIR: buildah (podman build) does not keep a directory that
# only WORKDIR created when no later step writes to the filesystem, and a read-only root then
# cannot start in it (docs/deploy.md).
RUN groupadd --system --gid 10001 agno \
    && useradd --system --uid 10001 --gid agno --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin agno \
    && mkdir -p /app

# The wheels are bind-mounted from the build stage, so they never become a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/agno_session-*.whl

WORKDIR /app
USER 10001:10001
EXPOSE 8080

# Liveness only (no database I/O): the same endpoint Kubernetes' livenessProbe uses.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AGNO_SERVICE_PORT', '8080'), timeout=2)"]

ENTRYPOINT ["agno-session"]
