# syntax=docker/dockerfile:1
#
# AICA in one image. Alone it runs the embedded default (a private PostgreSQL in /data):
#   docker build -t aica .
#   docker run -p 8000:8000 -v aica-data:/data aica      # the first start prints the token
# With external PostgreSQL and Redis, see docker-compose.yml.
# The entrypoint is `aica`: `docker run aica migrate`, `... bootstrap --org-name X --email Y`,
# `... worker` run the other commands.
#
# Models (README "Models") can be baked in, so that no process fetches one at start:
#   docker build --build-arg MODELS="small speakers" -t aica .
# installs them with `aica models install` into /var/lib/aica/models; a process finds them with
# AICA_DATA_DIR=/var/lib/aica (docker-compose.yml sets it), e.g. AICA_WHISPER_MODEL=small.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the wheel, installed with its dependencies into a self-contained venv ------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY aica ./aica
COPY rest_compat ./rest_compat
RUN pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/aica \
 && /opt/aica/bin/pip install /dist/aica-*.whl

# --- runtime ------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# tini reaps the processes pg_ctl leaves to PID 1 and forwards SIGTERM to aica, which then
# stops its embedded PostgreSQL cleanly.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /data aica \
 && mkdir /data /var/lib/aica \
 && chown aica:aica /data /var/lib/aica
COPY --from=builder /opt/aica /opt/aica
ENV PATH=/opt/aica/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AICA_DATA_DIR=/data \
    AICA_PORT=8000
# A bind mount for /data must be writable by uid 10001.
USER aica
# Space-separated names for `aica models install` (tiny.en, a size such as small or large-v3,
# speakers); empty installs nothing. The downloads' caches stay out of the layer.
ARG MODELS=""
RUN for model in $MODELS; do \
      AICA_DATA_DIR=/var/lib/aica HF_HOME=/tmp/hf PIP_NO_CACHE_DIR=1 \
        aica models install "$model" || exit 1; \
    done \
 && rm -rf /tmp/hf
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('AICA_PORT', '8000'), timeout=4)" || exit 1
ENTRYPOINT ["tini", "--", "aica"]
CMD ["serve", "--host", "0.0.0.0"]
