"""Whether a holding's value waits behind a Show button.

A rule about a holding and its purpose, read by the home page and by the correction form
alike; here, below both, so neither has to import the other to show a value the same way.
"""

from __future__ import annotations

from typing import Any

from app.organizations.categories import SENSITIVE_CATEGORIES
from app.organizations.models import Purpose


def is_hidden_at_first(holding: Any, purpose: Purpose) -> bool:
    """Sensitive values wait behind a Show button: when the organization says so, when the
    purpose covers sensitive data, or when the category is one PRODUCT.md names sensitive."""
    return holding.sensitive or purpose.sensitive or holding.category in SENSITIVE_CATEGORIES
