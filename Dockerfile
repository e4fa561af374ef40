# syntax=docker/dockerfile:1
# moviebot: the bot with the local model baked in and the bundled sample catalog indexed.
#   docker build -t moviebot .
#   docker run --env-file .env moviebot            # see compose.yaml for the full stack

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md requirements.lock hatch_build.py ./
COPY core core
COPY adapters adapters
COPY bot bot
# The packages exactly as tested (requirements.lock), then the project itself, with the
# int8 MiniLM model on onnxruntime (no PyTorch) and its message catalogs compiled to .mo
# files (hatch_build.py).
# hadolint ignore=DL3013
RUN pip install -r requirements.lock \
    && pip install --no-deps .
# Index the bundled sample catalog with the packaged model (no network needed).
# The model prepared for serving goes into the cache, which the image keeps.
ENV HF_HUB_OFFLINE=1 \
    MOVIEBOT_CACHE_DIR=/opt/moviebot/cache
RUN moviebot build-index --source sample --embedder local --out /opt/moviebot/index

FROM python:3.11-slim
# /data belongs to the bot, so that a volume mounted there (compose.yaml) is writable.
RUN useradd --create-home --uid 10001 moviebot \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /opt/moviebot /opt/moviebot
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    MOVIEBOT_INDEX_DIR=/opt/moviebot/index \
    MOVIEBOT_CACHE_DIR=/opt/moviebot/cache \
    MOVIEBOT_METRICS_PORT=9100
USER 10001
WORKDIR /home/moviebot
# 8443: Telegram webhook (when MOVIEBOT_TELEGRAM_WEBHOOK_URL is set); 9100: metrics, health.
EXPOSE 8443 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['MOVIEBOT_METRICS_PORT'] + '/healthz', timeout=4)"]
CMD ["moviebot", "run"]
