"""The web UI in a real browser (Playwright driving Debian's chromium): the start form in groups with choices, an
invalid value shown on the page with nothing started, a test whose run time counts once its HA pairs start, and
the Redis Cluster tab of Locust's UI, whose verdict and figures are checked against summary.json and
`loadsim plan`. Screenshots are kept in the test's folder (the README's docs/images/web_form.png and
redis_view.png come from a real run by scripts/webui-screenshots.py, not from this test)."""

import json
import shutil
import subprocess
import sys

import pytest
from webui_support import LocustUI, wait

from loadsim.config.simulation import GROUPS

sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright: pip install -e '.[dev]'")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _complete(summary):
    return summary.exists() and json.loads(summary.read_text()).get("complete") is True


def _plan(summary):
    """`loadsim plan --json` for the deployment the run simulated: another surface of the same verdict."""
    w, c = summary["workload"], summary["cluster"]
    args = ["--ha-pairs", w["ha_pairs"], "--cps-per-pair", w["cps_per_pair"], "--aht", w["aht_s"], "--complexity",
            w["complexity"], "--masters", c["masters"], "--replicas", c["replicas"], "--key-layout", w["key_layout"]]
    proc = subprocess.run([sys.executable, "-m", "loadsim", "plan", "--json", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    return json.loads(proc.stdout)


def _table(page):
    """The Redis Cluster tab's rows: {item: (value, detail)}."""
    rows = page.eval_on_selector_all(".MuiTableContainer-root tbody tr",
                                     "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.innerText))")
    return {r[0]: (r[1], r[2]) for r in rows if len(r) == 3}


def _table_when(page, predicate, what, seconds=120):
    """The tab's rows once *predicate* holds for them. The page may reload meanwhile (loadsim's script does, once
    the summary is written): reading it during the reload fails, and is tried again."""
    table = {}

    def ready():
        nonlocal table
        try:
            table = _table(page)
        except sync_api.Error:  # the page is reloading
            return False
        return predicate(table)

    wait(ready, seconds, what)
    return table


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
def test_the_form_and_the_redis_tab_in_a_browser(tmp_path):
    out = tmp_path / "run"
    summary_file = out / "summary.json"
    with LocustUI("--results-dir", str(out), "--aht", "30") as ui, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.set_default_timeout(60_000)
        page.goto(ui.base + "/")
        page.click("text=Custom parameters")
        page.click("text=Advanced options")
        page.wait_for_selector(".loadsim-group")

        # groups in order, short labels, help on hover, choices, defaults, options given at start read-only
        assert page.eval_on_selector_all(".loadsim-group", "e => e.map(g => g.innerText)") == list(GROUPS)
        assert "HA pair" in page.inner_text("label[for='" + page.get_attribute("input[name=userCount]", "id") + "']")
        cps = page.locator("input[name=cpsPerPair]")
        assert cps.input_value() == "5"  # loadsim's default, shown
        item = cps.locator("xpath=ancestor::div[contains(@class, 'MuiFormControl-root')][1]")
        assert item.get_attribute("title").startswith("--cps-per-pair: Calls per second")
        assert item.locator("label").inner_text() == "Calls/s per HA pair"
        options = "s => [...s.options].map(o => o.value)"
        assert page.eval_on_selector("select[name=complexity]", options) == ["simple", "standard", "complex"]
        assert page.eval_on_selector("select[name=keyLayout]", options) == ["per-session", "single-hash",
                                                                            "node-tag", "index"]
        assert page.eval_on_selector("select[name=poolConnections]", options) == ["lazy", "eager"]
        fixed = {r[0]: r[1] for r in page.eval_on_selector_all(
            ".loadsim-fixed", "e => e.map(r => [...r.children].map(c => c.innerText))")}
        assert fixed["Results folder"] == str(out) and fixed["Redis nodes"].startswith("not set")
        assert page.locator("input[name=resultsDir], input[name=embeddedRedisServer]").count() == 0
        page.screenshot(path=str(tmp_path / "web_form.png"), full_page=True)

        # an invalid value: shown on the page, nothing starts
        page.fill("input[name=userCount]", "2")
        cps.fill("-3")
        page.click("button:has-text('Start')")
        alert = page.wait_for_selector(".MuiAlert-root")
        assert "--cps-per-pair: -3 is out of range" in alert.inner_text()
        assert page.locator("text=Start new load test").count() == 1 and not out.exists()
        page.screenshot(path=str(tmp_path / "web_form_invalid.png"))

        # a good test: a choice, another cluster shape (the cluster restarts), a run time counted from the load
        cps.fill("5")
        page.select_option("select[name=complexity]", "complex")
        page.fill("input[name=masters]", "4")
        page.fill("input[name=runTime]", "6s")
        page.click("button:has-text('Start')")
        page.click("button[role=tab]:has-text('Redis Cluster')")
        _table_when(page, lambda t: any(item.endswith("(master)") for item in t), "the masters in the tab")
        page.wait_for_selector("iframe.loadsim-charts")  # the charts, under the table
        wait(lambda: _complete(summary_file), 120, "the summary")

        # after the test: the tab against the summary (Locust's page stops polling when a test stops: loadsim's
        # script reloads it once the summary is there)
        summary = json.loads(summary_file.read_text())
        table = _table_when(page, lambda t: any("(end of the run)" in detail for _, detail in t.values()),
                            "the summary's figures in the tab")
        page.wait_for_load_state()
        frame = page.frame_locator("iframe.loadsim-charts")
        plan = _plan(summary)
        expected = "PASS" if plan["passed"] else "FAIL"
        assert table["verdict"][0] == expected and plan["binding"]["name"] in table["verdict"][1], table["verdict"]
        wait(lambda: frame.locator("#verdict").inner_text().startswith(expected), 30, "the verdict above the charts")
        # the latency row names its queueing as plan --from the run does: no capacity folder was given to this run
        # (--capacity-from), so no measured curve, said so
        from_run = json.loads(subprocess.run([sys.executable, "-m", "loadsim", "plan", "--from", str(out), "--json"],
                                             capture_output=True, text=True, timeout=120).stdout)
        queueing = from_run["prediction"]["latency"]["queueing"]
        assert queueing.startswith("M/M/1 (assumption): no measured plain curve was given"), queueing
        [latency] = [detail for item, (_, detail) in table.items() if item.startswith("constraint: latency")]
        assert f"({queueing})" in latency, latency
        # the charts' axes: the steady state sets the scale (a pre-fill spike does not), numbers without e-notation
        charts = next(f for f in page.frames if "/loadsim/redis" in f.url)
        nodes = [{"s": {"t": [0, 1, 2, 3, 4], "m": [2400, 5, 6, 5, 4]}}]
        span = charts.evaluate("n => extent(n, 'm', v => v, 1.5)", nodes)
        assert (span["vmax"], span["vall"]) == (6, 2400)
        # nor the pre-fill's backlog draining into the first steady seconds (seen: 1.4 k commands/s, then 30/s)
        drain = [{"s": {"t": list(range(10)), "m": [2600, 2000, 1400, 600, 200, 31, 30, 29, 30, 31]}}]
        span = charts.evaluate("n => extent(n, 'm', v => v, 2)", drain)
        assert (span["vmax"], span["vall"]) == (31, 2600), span
        labels = charts.evaluate("vs => vs.map(v => tickLabel(v, v / 5))", [0.0004, 0.5, 9.14, 2400, 15300, 1.5e6])
        assert labels == ["0.00040", "0.5", "9", "2.4 k", "15 k", "1.5 M"], labels
        assert charts.evaluate("() => ticks(2.4e3 * 1.1).values") == [0, 1000, 2000, 3000]
        # the axis reaches the steady state's top: 8.1 k keys x 1.1 under a 10 k axis, not clipped at 8 k
        assert charts.evaluate("() => ticks(8.1e3 * 1.1).values") == [0, 2000, 4000, 6000, 8000, 10000]
        assert charts.evaluate("() => ticks(1.1).max") >= 1.1
        page.wait_for_timeout(2500)  # the charts draw on their next refresh
        page.screenshot(path=str(tmp_path / "redis_view.png"), full_page=True)
        browser.close()
    assert summary["workload"]["complexity"] == "complex" and summary["cluster"]["masters"] == 4
    # the run time counts once the HA pairs start, not while the cluster restarted (about 3 s here)
    assert summary["duration_s"] >= 5.5, summary["duration_s"]
    masters = {m["node"]: m for m in summary["masters"]}
    shown = {item.removesuffix(" (master)"): value for item, (value, _) in table.items() if item.endswith("(master)")}
    assert shown.keys() == masters.keys()
    for node, m in masters.items():
        assert shown[node] == f"{m['used_memory'] / 2**20:,.1f} MiB"
        assert table[f"{node} (master)"][1].startswith(f"{m['keys']:,} keys")
    for name, op in summary["operations"].items():
        if op["latency_us"]["count"]:
            assert table[f"{name} p99"][0] == f"{op['latency_us']['p99']:,} µs"
