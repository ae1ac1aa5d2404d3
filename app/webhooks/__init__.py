"""Webhooks: endpoints organizations register, and the delivery engine that POSTs events.

The engine, from the bottom up: retries.py (the schedule), claims.py (leases, claims and
recording outcomes), attempts.py (one signed HTTP attempt), delivery.py (the loop). The
process that runs it is app/worker.py, above this package.
"""

# The delivery engine logs under one name, the one it had while it was a single module:
# operators' log filters know it, whichever of the files above a line comes from.
LOG_NAME = "app.webhooks.worker"
