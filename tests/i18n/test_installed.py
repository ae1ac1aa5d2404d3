"""The portal serves every language it offers however it is installed, or refuses to start.

The `install` tests do what a packager (or README's production steps) does: `pip install .`
(not editable) into a fresh venv, then `consent-portal serve` from a folder that is not the
checkout. Nothing is compiled beforehand: the checkout is copied without any .mo file. They
take about half a minute (`-m "not install"` leaves them out).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from markupsafe import escape

from app import i18n
from app.config import ROOT, Settings
from app.i18n import MissingCatalogue, load_catalogues
from app.main import create_app

LOCALES = ROOT / "locales"
OFFERED = ("es", "so", "hmn")


def _translation(locale: str, message: str) -> str:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        text = read_po(f, locale=locale)[message].string
    assert isinstance(text, str) and text and text != message
    return text


def _locales_copy(target: Path, locales: tuple[str, ...] = OFFERED) -> Path:
    target.mkdir()
    shutil.copy(LOCALES / "messages.pot", target)
    for code in locales:
        (target / code / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(LOCALES / code / "LC_MESSAGES" / "messages.po", target / code / "LC_MESSAGES")
    return target


# --- loading catalogues (no install) -----------------------------------------------------------


def test_catalogues_are_compiled_from_po_files_alone(tmp_path):
    locales = _locales_copy(tmp_path / "locales")
    assert not list(locales.rglob("*.mo"))
    catalogues = load_catalogues(locales)
    assert set(catalogues) == {"en", *OFFERED}
    for code in OFFERED:
        assert catalogues[code].gettext("Log in") == _translation(code, "Log in")
    assert catalogues["en"].gettext("Log in") == "Log in"
    assert not list(locales.rglob("*.mo")), "compiling wrote files"


def test_an_offered_language_without_a_catalogue_is_named(tmp_path):
    locales = _locales_copy(tmp_path / "locales")
    (locales / "so" / "LC_MESSAGES" / "messages.po").unlink()  # e.g. only a .mo shipped
    (locales / "so" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    with pytest.raises(MissingCatalogue, match=r"'so'.*messages\.po is missing"):
        load_catalogues(locales)


def test_a_catalogue_translating_nothing_is_refused(tmp_path):
    locales = _locales_copy(tmp_path / "locales", ("es",))
    (locales / "xx" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(LOCALES / "messages.pot", locales / "xx" / "LC_MESSAGES" / "messages.po")
    with pytest.raises(MissingCatalogue, match=r"'xx'.*translates nothing"):
        load_catalogues(locales)


def test_locales_that_were_not_installed_are_named(tmp_path):
    with pytest.raises(MissingCatalogue, match=r"messages\.pot is missing"):
        load_catalogues(tmp_path / "nowhere")


def test_the_app_does_not_start_without_a_catalogue(tmp_path, monkeypatch, settings: Settings):
    locales = _locales_copy(tmp_path / "locales")
    (locales / "hmn" / "LC_MESSAGES" / "messages.po").unlink()
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    i18n._catalogues.cache_clear()
    try:
        with pytest.raises(MissingCatalogue, match="'hmn'"):
            create_app(settings)
    finally:
        monkeypatch.undo()
        i18n._catalogues.cache_clear()  # the real catalogues again, for the tests after this


# --- a real install ----------------------------------------------------------------------------


@dataclass
class Installed:
    venv: Path
    run_dir: Path  # where the portal is started: neither the checkout nor the copy built
    env: dict[str, str]

    @property
    def site_packages(self) -> Path:
        found = list((self.venv / "lib").glob("python3*/site-packages"))
        assert len(found) == 1, found
        return found[0]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("installed")
    source = base / "src"
    # The checkout as a packager gets it: no compiled catalogues, no build output, no venv.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "var", "*.egg-info", "__pycache__", ".*_cache", "*.mo"
        ),
    )
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DATABASE_URL"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # Not editable: a wheel built from the copy, as `pip install .` does.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-deps", "--disable-pip-version-check", "--quiet", str(source)],
        check=True,
        env=env,
        timeout=300,
    )
    shutil.rmtree(source)  # nothing may come from the copy once installed
    result = Installed(venv=venv, run_dir=base / "run", env=env)
    result.run_dir.mkdir()
    # The dependencies come from this venv, appended after the new venv's own site-packages.
    # A path in a .pth file is not a site folder: this venv's .pth files (the editable finder
    # of the checkout) don't run there, so `app` can only be the installed one.
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (result.site_packages / "zz_test_dependencies.pth").write_text("\n".join(sorted(paths)) + "\n")
    yield result


def _python(installed: Installed, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed.bin("python"), "-c", code],
        cwd=installed.run_dir,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.install
def test_the_installed_package_is_the_one_imported(installed: Installed):
    done = _python(
        installed, "import app, app.paths as p; print(app.__file__); print(p.LOCALES_DIR)"
    )
    assert done.returncode == 0, done.stderr
    module, locales = done.stdout.split()
    assert Path(module).is_relative_to(installed.site_packages)
    assert Path(locales) == installed.site_packages / "app" / "locales"
    shipped = installed.site_packages / "app"
    for path in (
        "templates/base.html",
        "templates/participants/login.html",
        "locales/messages.pot",
        *(f"locales/{code}/LC_MESSAGES/messages.po" for code in OFFERED),
        "migrations/env.py",
        "migrations/script.py.mako",
        "static/portal.css",
    ):
        assert (shipped / path).is_file(), f"{path} is not installed"
    assert list((shipped / "migrations" / "versions").glob("*.py"))
    assert not list(shipped.rglob("*.mo"))


@pytest.mark.install
def test_serve_from_a_plain_install_speaks_every_language(installed: Installed):
    port = _free_port()
    env = {
        **installed.env,
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"sqlite:///{installed.run_dir / 'portal.db'}",
    }
    log_path = installed.run_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [installed.bin("consent-portal"), "serve", "--port", str(port)],
            cwd=installed.run_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"serve exited: {log_path.read_text()}"
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not answer: {log_path.read_text()}"
            time.sleep(0.25)
        for code in OFFERED:
            page = httpx.get(f"{base}/login", params={"lang": code}, timeout=10)
            assert page.status_code == 200
            assert f'<html lang="{code}"' in page.text
            log_in = str(escape(_translation(code, "Log in")))
            assert f"{log_in}</button>" in page.text, f"{code}: the page is not in {code}"
            assert "Log in</button>" not in page.text
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.install
def test_an_installed_portal_missing_a_catalogue_refuses_to_start(installed: Installed):
    po = installed.site_packages / "app" / "locales" / "so" / "LC_MESSAGES" / "messages.po"
    kept = po.read_bytes()
    po.unlink()
    database = installed.run_dir / "refused.db"
    env = {**installed.env, "PORTAL_ENV": "development", "DATABASE_URL": f"sqlite:///{database}"}
    try:
        serve = subprocess.run(
            [installed.bin("consent-portal"), "serve", "--port", str(_free_port())],
            cwd=installed.run_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert serve.returncode == 2, serve.stdout + serve.stderr
        assert "'so'" in serve.stderr and "messages.po is missing" in serve.stderr
        assert not database.exists(), "it migrated a database before refusing"
        # The production entry point (`uvicorn app.asgi:app`) refuses the same way.
        asgi = subprocess.run(
            [installed.bin("python"), "-c", "import app.asgi"],
            cwd=installed.run_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert asgi.returncode != 0
        assert "MissingCatalogue" in asgi.stderr and "'so'" in asgi.stderr
    finally:
        po.write_bytes(kept)
