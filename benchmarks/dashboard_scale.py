"""Dashboard at scale: time to first picture and memory at 1,000 / 10,000 / 100,000 trials
(10 reports each), rung's dashboard beside optuna-dashboard on the same trials, and the
delay from a report to its appearance on an open page.

    .venv/bin/python benchmarks/dashboard_scale.py [--sizes 1000 10000 100000] [--no-optuna]

Each dashboard runs as its own process (``rung dashboard``, ``optuna-dashboard``) on a
store written beforehand (``dashboard_data.py``); headless chromium (Selenium) opens the
experiment's page right after the server is up: once with nothing cached ("first visit"),
then, after a restart of the server (which then reads the store from scratch), with
plotly.js in the browser's cache (the usual case: "first picture"). "First picture": from
asking for the page until a plotly chart on it holds data (rung: the learning curves or the
incumbent, drawn from the first page of 10,000 trial rows; optuna-dashboard: any of its
plotly charts); then when every trial row has been read and when the whole log has. Memory: the server process's peak
resident size (VmHWM) once the page has drawn and, for rung, once it has read the whole
log and answered every view.
Delay: a real tuner (2 workers) reports with its wall-clock time; the open page's report
count is sampled every 20 ms in the browser; delay = first time the page shows report k
minus the time report k was sent. Not a timed test: numbers go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from dashboard_data import check_optuna, write_optuna_bulk, write_rung  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PAGE_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    return driver


HAS_PICTURE = """
const ids = arguments[0];
const plots = ids.length ? ids.map(id => document.getElementById(id)) : [...document.querySelectorAll('.js-plotly-plot')];
return plots.some(p => p && p.data && p.data.some(t => (t.x && t.x.length > 0) || (t.dimensions && t.dimensions.length)));
"""


def first_picture(driver, url: str, plot_ids: list[str]) -> float | str:
    """Seconds until a chart holds data, or why there was none within PAGE_TIMEOUT."""
    from selenium.common.exceptions import WebDriverException
    from urllib3.exceptions import ReadTimeoutError

    started = time.perf_counter()
    try:
        driver.get(url)
        while time.perf_counter() - started < PAGE_TIMEOUT:
            if driver.execute_script(HAS_PICTURE, plot_ids):
                return time.perf_counter() - started
            time.sleep(0.02)
    except (WebDriverException, ReadTimeoutError, TimeoutError) as err:
        return f"no picture: the page stopped answering after {time.perf_counter() - started:.0f} s ({type(err).__name__})"
    return f"no picture within {PAGE_TIMEOUT:.0f} s"


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_rung(store: str, log: Path, port: int = 0) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "rung.cli", "dashboard", "--storage", store, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        if " at http://" in text:
            return process, text.split(" at ", 1)[1].split()[0].rstrip("/")
        time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"rung dashboard did not start: {log.read_text()}")


def measure_rung(db: Path, name: str, work: Path) -> dict[str, object]:
    """Twice, on one port: a first visit (nothing cached), then, with a fresh server (which
    reads the store from scratch), a visit with plotly.js in the browser's cache."""
    import httpx

    port = free_port()
    driver = browser(work / "chromium-rung")
    plots = ["plot-curves", "plot-incumbent-time"]
    try:
        process, base = start_rung(f"sqlite:///{db}", work / "rung-dashboard.log", port)
        page = f"{base}/experiments/{name}"
        try:
            first_visit = first_picture(driver, page, plots)
        finally:
            stop(process)
        process, base = start_rung(f"sqlite:///{db}", work / "rung-dashboard.log", port)
        try:
            picture = first_picture(driver, page, plots)
            shown_mb = peak_mb(process.pid)
            started = time.perf_counter()
            trials_read = None
            while True:
                loading = httpx.get(f"{base}/api/experiments/{name}/summary", timeout=60).json()["loading"]
                if loading["trials_complete"] and trials_read is None:
                    trials_read = time.perf_counter() - started + picture
                if loading["log_complete"]:
                    break
                time.sleep(0.1)
            full = time.perf_counter() - started + picture
            view_seconds = {}
            for view in ("curves", "incumbent", "rungs", "params", "timeline", "importance"):
                t0 = time.perf_counter()
                httpx.get(f"{base}/api/experiments/{name}/views/{view}", timeout=120).raise_for_status()
                view_seconds[view] = time.perf_counter() - t0
            t0 = time.perf_counter()
            httpx.get(f"{base}/api/experiments/{name}/trials", params={"sort": "value", "limit": 50}, timeout=60)
            view_seconds["table sorted by value"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            httpx.get(f"{base}/api/experiments/{name}/trials/{name.count('0')}", timeout=60).raise_for_status()
            view_seconds["trial details"] = time.perf_counter() - t0
            redraw = first_picture(driver, page, plots)
            return {"first_visit_s": first_visit, "first_picture_s": picture, "peak_mb_at_picture": shown_mb,
                    "all_trial_rows_s": trials_read, "whole_log_read_s": full, "peak_mb": peak_mb(process.pid), "reload_s": redraw,
                    "views_s": view_seconds}
        finally:
            stop(process)
    finally:
        driver.quit()


def start_optuna(db: Path, port: int, work: Path) -> subprocess.Popen:
    import httpx

    executable = Path(sys.executable).with_name("optuna-dashboard")
    process = subprocess.Popen([str(executable), f"sqlite:///{db}", "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=open(work / "optuna-dashboard.log", "w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError("optuna-dashboard did not start")


def measure_optuna(db: Path, work: Path) -> dict[str, object]:
    """As :func:`measure_rung`: a first visit, then a fresh server with a warm browser."""
    port = free_port()
    page = f"http://127.0.0.1:{port}/dashboard/studies/1"
    driver = browser(work / "chromium-optuna")
    try:
        process = start_optuna(db, port, work)
        try:
            first_visit = first_picture(driver, page, [])
            if isinstance(first_visit, str):  # the tab hangs: no second visit
                return {"first_visit_s": first_visit, "peak_mb": peak_mb(process.pid)}
        finally:
            stop(process)
        process = start_optuna(db, port, work)
        try:
            picture = first_picture(driver, page, [])
            return {"first_visit_s": first_visit, "first_picture_s": picture, "peak_mb": peak_mb(process.pid)}
        finally:
            stop(process)
    finally:
        driver.quit()


TUNER = """
import sys, time, random
import rung
def objective(config):
    for epoch in range(1, 6):
        time.sleep(random.uniform(0.1, 0.5))
        rung.report(epoch=epoch, loss=config["x"] ** 2 + 1 / epoch, sent=time.time())
rung.Tuner(objective, {"x": rung.uniform(-1, 1)}, metric="loss", searcher="random", seed=0, max_trials=int(sys.argv[2]),
           n_workers=2, storage=sys.argv[1], experiment="live", verbose=0).run()
"""

WATCH = """
window.__seen = [];
let last = -1;
setInterval(() => { const n = parseInt(document.body.dataset.reports || "-1", 10);
  if (n !== last) { last = n; window.__seen.push([Date.now() / 1000, n]); } }, 20);
"""


def measure_delay(work: Path, n_trials: int = 40) -> dict[str, float]:
    from rung.storage import SQLStorage

    db = work / "live.db"
    db.unlink(missing_ok=True)
    script = work / "live_tuner.py"
    script.write_text(TUNER)
    env = {**os.environ, "RUNG_HOME": str(work / "home")}
    job = subprocess.Popen([sys.executable, str(script), f"sqlite:///{db}", str(n_trials)], env=env,
                           stderr=open(work / "live.log", "w"))
    while not db.exists():
        time.sleep(0.05)
    time.sleep(1.0)
    process, base = start_rung(f"sqlite:///{db}", work / "rung-live.log")
    driver = browser(work / "chromium-live")
    try:
        driver.get(f"{base}/experiments/live")
        driver.execute_script(WATCH)
        watch_from = time.time()
        job.wait()
        time.sleep(3)
        seen = driver.execute_script("return window.__seen;")
    finally:
        driver.quit()
        stop(process)
    store = SQLStorage(db)
    reports = store.read_log(store.require_experiment("live").id).reports
    delays = []
    for k, report in enumerate(reports, start=1):
        sent = report.metrics["sent"]
        if sent < watch_from + 2:  # the page was still catching up with the log
            continue
        shown = next((t for t, n in seen if n >= k), None)
        if shown is not None:
            delays.append(shown - sent)
    return {"reports": len(delays), "median_s": statistics.median(delays), "p95_s": sorted(delays)[int(0.95 * len(delays))],
            "max_s": max(delays)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rung-dashboard-bench"))
    parser.add_argument("--no-optuna", action="store_true")
    parser.add_argument("--no-delay", action="store_true")
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"load_average_at_start": os.getloadavg()}
    for size in args.sizes:
        name = f"synthetic-{size}"
        rung_db, optuna_db = work / f"rung-{size}.db", work / f"optuna-{size}.db"
        if not rung_db.exists():
            from rung.storage import SQLStorage

            write_rung(SQLStorage(rung_db), name, size)
        row: dict[str, object] = {"rung": measure_rung(rung_db, name, work)}
        print(json.dumps({size: row}), flush=True)
        if not args.no_optuna:
            if not optuna_db.exists():
                write_optuna_bulk(f"sqlite:///{optuna_db}", name, size)
                check_optuna(f"sqlite:///{optuna_db}", name, size)
            row["optuna-dashboard"] = measure_optuna(optuna_db, work)
            print(json.dumps({size: row}), flush=True)
        results[str(size)] = row
    if not args.no_delay:
        results["delay"] = measure_delay(work)
        print(json.dumps({"delay": results["delay"]}), flush=True)
    (work / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
