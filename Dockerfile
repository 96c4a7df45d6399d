# Hessian Explorer: production image. Build: docker build -t hessian-explorer .
# Run: docker run -p 8501:8501 hessian-explorer   (then open http://localhost:8501)
FROM python:3.11-slim

# One BLAS thread per request: many sessions share the cores (oversubscription is slower).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first (cached layer), then the code.
COPY --chown=app:app pyproject.toml README.md requirements.txt ./
COPY --chown=app:app src ./src
RUN pip install -r requirements.txt
COPY --chown=app:app app.py ./
COPY --chown=app:app pages ./pages
COPY --chown=app:app static ./static
COPY --chown=app:app .streamlit ./.streamlit

USER app
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
