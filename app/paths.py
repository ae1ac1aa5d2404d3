"""Where the portal's own files are, however it is installed.

In a checkout (and an editable install, `pip install -e .`) templates/, locales/ and
migrations/ sit beside app/. A wheel or a plain `pip install .` ships them inside the package,
as app/templates, app/locales and app/migrations (pyproject.toml maps the top-level folders
there), so an installed portal never depends on the folder it was installed from.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The checkout holding app/ (in an installed portal: site-packages, holding none of these).
SOURCE_DIR = PACKAGE_DIR.parent


def _shipped(name: str) -> Path:
    # Inside the package first: site-packages may hold an unrelated top-level folder by the name.
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else SOURCE_DIR / name


TEMPLATES_DIR = _shipped("templates")
LOCALES_DIR = _shipped("locales")
MIGRATIONS_DIR = _shipped("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
# Running from a checkout: the files are the checkout's, and so is its var/ folder.
FROM_SOURCE = TEMPLATES_DIR == SOURCE_DIR / "templates"
