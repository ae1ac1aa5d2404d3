# The production image: the same steps as README.md's "Running in production".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_ENV=production \
    PORT=8000

WORKDIR /srv/portal

# Non-root: the portal never needs to write outside its own data folder.
RUN useradd --create-home --uid 10001 portal

COPY pyproject.toml README.md babel.cfg ./
COPY app ./app
COPY templates ./templates
COPY locales ./locales
COPY migrations ./migrations

RUN pip install --no-cache-dir -e . \
 && pybabel compile -d locales -D messages \
 && mkdir -p var && chown portal:portal var

USER portal
EXPOSE 8000

# DATABASE_URL (PostgreSQL), PORTAL_SECRET_KEY and PORTAL_FIELD_KEYS come from the environment
# (README.md, "Running in production"); the portal refuses to start without them.
# Migrate once, then serve with several workers; the webhook worker runs as its own process
# (`docker run ... consent-portal worker`), so web processes stay stateless.
CMD ["sh", "-c", "consent-portal migrate && exec uvicorn app.asgi:app --host 0.0.0.0 --port ${PORT} --workers ${WEB_CONCURRENCY:-4} --proxy-headers --forwarded-allow-ips='*'"]
