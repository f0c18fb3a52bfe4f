"""Fixtures of the browser tests: a real tuner and a real dashboard in subprocesses, and
Debian's chromium driven by Selenium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("RUNG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RUNG_CHROMEDRIVER", "/usr/bin/chromedriver")
HERE = Path(__file__).parent


@pytest.fixture
def output_dir(request, tmp_path):
    """Where screenshots go: $RUNG_BROWSER_OUTPUT/<test> if set, else the test's tmp_path."""
    root = os.environ.get("RUNG_BROWSER_OUTPUT")
    path = Path(root) / request.node.name if root else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def tuner(store_url, tmp_path):
    """Starts a real tuner (``live_tuner.py``) in a subprocess: ``tuner(name, n_trials)``."""
    started: list[subprocess.Popen] = []

    def launch(name: str, n_trials: int) -> subprocess.Popen:
        env = {**os.environ, "RUNG_HOME": str(tmp_path / "home")}
        process = subprocess.Popen([sys.executable, str(HERE / "live_tuner.py"), store_url, name, str(n_trials)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{name}.err", "w"))
        started.append(process)
        return process

    yield launch
    for process in started:
        _stop(process)


@pytest.fixture
def dashboard(store_url, tmp_path):
    """``rung dashboard`` in a subprocess on a free port; yields its base URL."""

    def serve() -> str:
        database = Path(store_url[len("sqlite:///"):])
        deadline = time.monotonic() + 30
        while not database.exists():  # rung dashboard refuses a store that does not exist yet
            assert time.monotonic() < deadline, "the tuner did not create its store"
            time.sleep(0.1)
        env = {**os.environ, "RUNG_HOME": str(tmp_path / "home")}
        log = tmp_path / "dashboard.err"
        process = subprocess.Popen([sys.executable, "-m", "rung.cli", "dashboard", "--storage", store_url, "--port", "0"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
        started.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = log.read_text()
            if " at http://" in text:
                return text.split(" at ", 1)[1].split()[0].rstrip("/")
            if process.poll() is not None:
                raise RuntimeError(f"rung dashboard exited: {text}")
            time.sleep(0.1)
        raise RuntimeError("rung dashboard did not start")

    started: list[subprocess.Popen] = []
    yield serve
    for process in started:
        _stop(process)


@pytest.fixture
def browser(tmp_path):
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (make browser-system installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium", ignore_errors=True)
