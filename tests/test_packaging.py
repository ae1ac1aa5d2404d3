"""pyproject.toml lists the packages a wheel carries (it maps templates/, locales/ and
migrations/ into app/, which package discovery can't): a new folder of code in app/ must be
listed, or a plain `pip install .` would leave it out (tests/i18n/test_installed.py installs one).
"""

import tomllib

from app.config import ROOT


def _setuptools() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_folder_of_code_in_app_is_packaged():
    code = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "app").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = code - set(_setuptools()["packages"])
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_the_top_level_folders_ship_inside_the_package():
    package_dir = _setuptools()["package-dir"]
    for folder in ("templates", "locales", "migrations"):
        assert package_dir[f"app.{folder}"] == folder
        assert f"app.{folder}" in _setuptools()["packages"]
