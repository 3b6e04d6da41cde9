# The connector daemon image (issue 5 completes health checks and the run command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CONNECTOR_MAPPINGS_BASE_DIR=/app/mappings \
    CONNECTOR_DATABASE_URL=sqlite:////var/lib/connector/connector.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY mappings ./mappings
COPY config ./config
RUN pip install --no-cache-dir ".[postgres]" \
    && useradd --system --uid 10001 --home-dir /var/lib/connector --create-home connector

USER connector
ENTRYPOINT ["connector"]
CMD ["--help"]
