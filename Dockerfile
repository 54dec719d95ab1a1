FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN apt-get update \
    && apt-get install --no-install-recommends -y libpq5 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --no-input -v 0

# The app runs as an unprivileged user with a fixed id. VOICEOPS_VAR_DIR (uploaded import
# files) is created here and owned by it: a named volume mounted there starts with this
# ownership, so web and worker can both write it. Give a bind mount to uid 10001.
RUN groupadd --gid 10001 voiceops \
    && useradd --uid 10001 --gid voiceops --create-home voiceops \
    && mkdir -p /var/lib/voiceops/imports \
    && chown -R voiceops:voiceops /var/lib/voiceops
ENV VOICEOPS_VAR_DIR=/var/lib/voiceops
USER voiceops
EXPOSE 8000
CMD ["python", "-m", "voiceops.web"]
