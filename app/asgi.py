"""The ASGI entry point for running several uvicorn worker processes in production:
`uvicorn app.asgi:app --workers 4`. Web processes run no webhook worker; run
`consent-portal worker` beside them (as many as you like against PostgreSQL).

Each process that imports this puts the access-log redaction on uvicorn's access logger
(app/security/log_redaction.py), so no claim code or reference reaches the access log."""

from app.main import create_app
from app.security import log_redaction

log_redaction.install()
app = create_app(run_worker=False)
