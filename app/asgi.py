"""The ASGI entry point for running several uvicorn worker processes in production:
`uvicorn app.asgi:app --workers 4`. Web processes run no webhook worker; run
`consent-portal worker` beside them (as many as you like against PostgreSQL)."""

from app.main import create_app

app = create_app(run_worker=False)
