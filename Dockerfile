# The Sift API image. Torch's CPU wheel keeps it small: the reranker runs in its own vLLM container, and Sift
# tokenizes for it through the server, so no model files are needed here.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY retrieval retrieval
COPY rerank rerank
COPY api api
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install .
# Run as an unprivileged user; /data (the volume) is created here so that the volume inherits its owner.
RUN useradd --system --uid 10001 --create-home --home-dir /home/sift sift \
 && mkdir /data && chown sift:sift /data
USER sift
EXPOSE 8000
CMD ["sift", "serve"]
