# monitor: the daemon (checks every 6 hours, a digest every Monday) in a container.
#
#   docker build -t monitor .
#   docker run -d --name monitor \
#     -v monitor-data:/data \
#     -v "$PWD:/catalog:ro" \
#     --env-file monitor.env \
#     monitor
#
# /data (a volume) holds the store and the reports; the catalog is not baked in:
# mount the directory that holds sources.toml read-only at /catalog. Tokens come
# only from the environment at run time (--env-file), never from the image.
# README.md, "Running it for real", says more.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor/ monitor/
# The project itself, with the PostgreSQL driver (MONITOR_DATABASE_URL may name either store).
RUN pip install --no-cache-dir "./[postgres]" \
    && groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --create-home --home-dir /home/monitor \
        --shell /usr/sbin/nologin monitor \
    && mkdir -p /data/reports /catalog \
    && chown -R monitor:monitor /data

ENV MONITOR_CATALOG=/catalog/sources.toml \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db \
    MONITOR_REPORTS_DIR=/data/reports

# Declared after the chown, so a new named volume starts owned by the monitor user.
VOLUME ["/data"]
WORKDIR /data
# The monitor user, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 10001:10001

# The daemon beats every 60 s; the check fails when the beat is stale or the daemon stopped.
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 \
    CMD ["monitor", "status", "--heartbeat"]

# `monitor daemon` exits 0 on SIGTERM after the batch in hand is committed.
STOPSIGNAL SIGTERM
CMD ["monitor", "daemon"]
