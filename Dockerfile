# The production image: the same steps as README.md's "Running in production".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTAL_ENV=production \
    PORT=8000

WORKDIR /srv/portal

# Non-root: the portal never needs to write outside its own data folder.
RUN useradd --create-home --uid 10001 portal

COPY pyproject.toml README.md /tmp/src/
COPY app /tmp/src/app
COPY templates /tmp/src/templates
COPY locales /tmp/src/locales
COPY migrations /tmp/src/migrations

# A plain install, and the sources removed: templates, catalogues and migrations ship inside
# the package, and the portal compiles the catalogues as it starts (or refuses to, naming a
# missing one).
RUN pip install --no-cache-dir /tmp/src \
 && rm -rf /tmp/src \
 && mkdir -p var && chown portal:portal var

USER portal
EXPOSE 8000

# DATABASE_URL (PostgreSQL), PORTAL_SECRET_KEY and PORTAL_FIELD_KEYS come from the environment
# (README.md, "Running in production"); the portal refuses to start without them.
# Migrate once, then serve with several workers; the webhook worker runs as its own process
# (`docker run ... consent-portal worker`), so web processes stay stateless.
CMD ["sh", "-c", "consent-portal migrate && exec uvicorn app.asgi:app --host 0.0.0.0 --port ${PORT} --workers ${WEB_CONCURRENCY:-4} --proxy-headers --forwarded-allow-ips='*'"]
