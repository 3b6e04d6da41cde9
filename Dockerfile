# The connector daemon: `docker build -t connector .`, then see deploy/compose.yaml.
# Runs `connector run` as a non-root user; /metrics, /healthz and /readyz are served on port 9464
# (CONNECTOR_METRICS_PORT). tests/observability/test_container.py repeats the COPY lines and the pip command
# below in a fresh virtual environment, so keep the install to one `pip install` command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    CONNECTOR_MAPPINGS_BASE_DIR=/app/mappings \
    CONNECTOR_CONNECTIONS_FILE=/app/config/connections.toml \
    CONNECTOR_DATABASE_URL=sqlite:////var/lib/connector/connector.db \
    CONNECTOR_METRICS_HOST=0.0.0.0 \
    CONNECTOR_METRICS_PORT=9464

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY sandboxes ./sandboxes
COPY mappings ./mappings
COPY config ./config
RUN pip install --no-cache-dir "./[postgres]" \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/connector --create-home connector

USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CONNECTOR_METRICS_PORT', '9464'), timeout=4)"]
ENTRYPOINT ["connector"]
CMD ["run"]
