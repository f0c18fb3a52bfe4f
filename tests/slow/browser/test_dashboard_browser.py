"""The dashboard as a user sees it: Debian's chromium (headless) driven by Selenium, against
``rung dashboard`` and a real tuner, each in its own process.

Checked: the experiment list shows the experiment; its page, opened while the tuner runs,
shows new trials without being reloaded; every tab draws; a trial's details open with its
reports, decisions and failure; the browser's console has no JavaScript error. A
screenshot of each page is saved (the ``output_dir`` fixture says where).
"""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

TABS = ("rungs", "parallel", "scatter", "slice", "importance", "timeline")


def console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def row_texts(browser) -> list[str]:
    """The trial table's rows (read in one go: the table is redrawn as the run goes on)."""
    return browser.execute_script("return [...document.querySelectorAll('#trial-table tbody tr')].map(r => r.textContent);")


def click_first_row(browser) -> None:
    browser.execute_script("document.querySelector('#trial-table tbody tr').click();")


def n_trials(browser) -> int:
    text = browser.find_element(By.ID, "n-trials").text
    return int(text) if text.isdigit() else 0


def test_list_live_page_tabs_and_trial_details(browser, tuner, dashboard, output_dir):
    job = tuner("live-demo", 40)
    base = dashboard()
    wait = WebDriverWait(browser, 60)

    # The experiment list, once the tuner has created its experiment.
    deadline = time.monotonic() + 30
    browser.get(base + "/")
    while not browser.find_elements(By.CSS_SELECTOR, 'tr.exp-row[data-name="live-demo"]'):
        assert time.monotonic() < deadline, "the experiment never appeared in the list"
        time.sleep(0.3)  # the list polls by itself: no reload
    browser.save_screenshot(str(output_dir / "list.png"))

    # Its page, while the tuner runs; a marker on window survives only if nothing reloads.
    browser.find_element(By.LINK_TEXT, "live-demo").click()
    wait.until(EC.url_contains("/experiments/live-demo"))
    wait.until(lambda b: n_trials(b) >= 1)
    browser.execute_script("window.__not_reloaded = true;")
    first = n_trials(browser)
    assert job.poll() is None, "the tuner ended before the page could watch it"
    WebDriverWait(browser, 40).until(lambda b: n_trials(b) > first)
    assert browser.execute_script("return window.__not_reloaded === true;")
    wait.until(lambda b: b.execute_script(
        "const p = document.getElementById('plot-curves'); return p.data && p.data.some(t => t.x && t.x.length > 0);"))
    wait.until(lambda b: b.execute_script(
        "const p = document.getElementById('plot-incumbent-time'); return p.data && p.data[0].x.length > 0;"))
    browser.save_screenshot(str(output_dir / "experiment.png"))

    # Every other view draws (the plotly graph div gets its data).
    for tab in TABS:
        browser.find_element(By.CSS_SELECTOR, f'#tabs button[data-tab="{tab}"]').click()
        plot = {"rungs": "plot-rungs", "parallel": "plot-parallel", "scatter": "plot-scatter", "slice": "plot-slice",
                "importance": "plot-importance", "timeline": "plot-timeline"}[tab]
        wait.until(lambda b: b.execute_script(f"const p = document.getElementById('{plot}'); return !!(p.data && p.data.length);")
                   or "importance" == tab and "fewer than" in b.find_element(By.ID, "importance-note").text)
        browser.save_screenshot(str(output_dir / f"tab-{tab}.png"))

    # The trial table, then a trial's details, in the page.
    browser.find_element(By.CSS_SELECTOR, '#tabs button[data-tab="trials"]').click()
    wait.until(lambda b: len(row_texts(b)) >= 1)
    click_first_row(browser)
    wait.until(EC.visibility_of_element_located((By.ID, "trial-detail")))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#detail-reports tr")) >= 2)
    title = browser.find_element(By.ID, "detail-title").text
    assert title.startswith("Trial ")
    body = browser.find_element(By.ID, "detail-body").text
    assert "Reports and decisions" in body and "Config" in body and "stdout" in body
    browser.save_screenshot(str(output_dir / "trial.png"))

    # A failed trial shows its traceback (kind "bad" fails at epoch 2).
    browser.find_element(By.ID, "detail-close").click()
    failed_option = browser.find_element(By.CSS_SELECTOR, "#filter-status")
    browser.execute_script("arguments[0].value = 'failed'; arguments[0].dispatchEvent(new Event('change'));", failed_option)
    WebDriverWait(browser, 60).until(lambda b: row_texts(b) and all("failed" in row for row in row_texts(b)))
    click_first_row(browser)
    wait.until(lambda b: "loss diverged" in b.find_element(By.ID, "detail-body").text)
    assert "Traceback" in browser.find_element(By.ID, "detail-body").text
    browser.save_screenshot(str(output_dir / "failed-trial.png"))

    assert browser.execute_script("return window.__not_reloaded === true;")
    assert console_errors(browser) == []


def test_comparison_page(browser, store_url, dashboard, output_dir, tmp_path, monkeypatch):
    import rung

    monkeypatch.setenv("RUNG_HOME", str(tmp_path / "home"))
    rung.compare(lambda config: (config["x"] - 0.2) ** 2, {"x": rung.uniform(-1, 1)}, metric="loss", mode="min",
                 methods=["random", "tpe"], seeds=2, max_trials=6, backend="inprocess", name="methods",
                 storage=store_url, jobs=1)
    base = dashboard()
    wait = WebDriverWait(browser, 60)
    browser.get(base + "/")
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, 'tr.exp-row[data-name="methods"] a'))
    browser.find_element(By.CSS_SELECTOR, 'tr.exp-row[data-name="methods"] a').click()
    wait.until(EC.url_contains("/comparisons/methods"))
    wait.until(lambda b: b.execute_script(
        "const p = document.getElementById('plot-comparison'); return !!(p.data && p.data.length);"))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#cmp-runs tbody tr")) == 4)
    summary = browser.find_element(By.ID, "cmp-summary").text
    assert "random" in summary and "tpe" in summary
    browser.save_screenshot(str(output_dir / "comparison.png"))
    assert console_errors(browser) == []
