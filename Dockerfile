# colorclf: the whole app (training page + labelling page) in one image.
#   docker build -t colorclf .
#   docker run -p 8501:8501 -v colorclf-data:/app/data colorclf          # SQLite in a volume
#   docker run -p 8501:8501 -e COLORCLF_DB_URL=postgresql+psycopg://… \
#              -e COLORCLF_TEACHER_PASSWORD=… colorclf                    # shared PostgreSQL
# See docs/HOSTING.md.
FROM python:3.12-slim

# Nothing in the image changes at run time, so Streamlit need not watch files.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# Dependencies first, so code changes do not reinstall TensorFlow.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# An unprivileged user; data/ (the default SQLite vote database) is the only writable place.
RUN useradd --create-home --uid 10001 colorclf \
    && mkdir -p /app/data \
    && chown colorclf:colorclf /app/data
USER colorclf
VOLUME ["/app/data"]

EXPOSE 8501

# python:3.12-slim has no curl; Python's urllib does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"]

CMD ["streamlit", "run", "streamlit_app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
