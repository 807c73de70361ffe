"""The web UI in a real browser (Playwright driving Debian's chromium): the start form in groups with choices, an
invalid value shown on the page with nothing started, a test whose run time counts once its HA pairs start, and
the Redis Cluster tab of Locust's UI, whose verdict and figures are checked against summary.json and
`loadsim plan`. Screenshots are kept in the test's folder (the README's docs/images/web_form.png and
redis_view.png come from a real run by scripts/webui-screenshots.py, not from this test)."""

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest
from webui_support import LocustUI, http, open_start_page, wait

from loadsim.config.simulation import GROUPS
from loadsim.model import workload as wl
from loadsim.model.footprint import footprint
from loadsim.model.workload import WorkloadParams

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
        browser, page = open_start_page(pw, CHROMIUM, ui.base)
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


def _live(ui, folder):
    """The tab's live data while the test writing ``folder`` runs ({} before it)."""
    data = json.loads(http(ui.base + "/loadsim/redis/data") or "{}")
    return data if data.get("running") and data.get("results") == str(folder) else {}


def _files(folder):
    """Every file of a run folder with its bytes: what a later test must leave as it is."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _prefill_unfinished_s(folder, created):
    """The elapsed time of the last client sample at which the pre-fill's ``created`` sessions were not all written
    yet (each row counts the operations completed since the one before)."""
    done, last = 0, 0.0
    with open(folder / "client_series.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            done += int(float(row.get("ops:session.prefill") or 0))
            if done < created:
                last = float(row["elapsed_s"])
    assert done == created
    return last


def _texts(log):
    """Per test of the process, in order: the run text's statistics window and its operations rows {name: count}."""
    texts = []
    for block in re.split(r"\(count, errors, percentiles: the statistics window", log)[:-1]:
        rows = dict(re.findall(r"^\s*(session\.\w+)\s+([\d,]+)\s", block.rsplit("operation", 1)[-1], re.M))
        texts.append({"rows": {k: int(v.replace(",", "")) for k, v in rows.items()}})
    for text, since in zip(texts, re.findall(r"the statistics window \((from [\d.]+ s|none[^)]*)\)", log), strict=True):
        text["since"] = since
    return texts


def _steady_window_is_a_headless_ones(folder):
    """The run's summary against the steady window's rule (after the pre-fill is written and drained, as headless):
    every pre-fill create outside the window, the window after the pre-fill's end, and the server's commands per
    operation in it the workload's own (pre-fill creates in the window would add about 2 commands each)."""
    summary = json.loads((folder / "summary.json").read_text())
    w = summary["workload"]
    params = WorkloadParams(ha_pairs=w["ha_pairs"], cps_per_pair=w["cps_per_pair"], aht_s=w["aht_s"],
                            complexity=wl.preset(w["complexity"]), worker_threads=w["worker_threads"])
    prefill = summary["operations"]["session.prefill"]
    assert prefill["count"] == 0 and prefill["warmup"] >= 0.9 * params.expected_live_sessions, prefill
    assert summary["steady_from_s"] is not None and not summary["flags"]["no_steady_state"], summary["steady_from_s"]
    assert summary["steady_from_s"] > _prefill_unfinished_s(folder, prefill["warmup"])
    acc = summary["accounting"]  # every operation due once: sent (ok or failed) or never sent, as headless
    assert acc["due"] == acc["sent"] + acc["not_sent"] and acc["sent"] == acc["ok"] + acc["errors"], acc
    assert acc["unaccounted"] == 0 and acc["due"] > prefill["warmup"], acc
    rates = summary["rates"]
    per_op = rates["steady_commands_per_s"] / rates["achieved_ops_per_s"]
    assert per_op == pytest.approx(footprint(params).commands_per_op, rel=0.1), per_op
    return summary


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
def test_a_test_started_from_the_form_has_the_headless_steady_window_and_a_second_its_own(tmp_path):
    """Two tests with pre-fill started and stopped from the page, 9 HA pairs ramped up at 3 a second, the Redis
    Cluster tab open (its polls run in the generator's process): each summary's window follows the headless rule
    (after every pair started and every pre-fill written and drained), the run text, the tab and Locust's own
    statistics show its counts, and the second test leaves the first one's folder as it was."""
    out = tmp_path / "run"
    second = out.with_name("run-2")
    with LocustUI("--results-dir", str(out)) as ui, sync_api.sync_playwright() as pw:
        browser, page = open_start_page(pw, CHROMIUM, ui.base)
        tables, first_files = [], None
        for folder in (out, second):
            if folder == second:
                page.click("button:has-text('New')")
            page.click("text=Custom parameters")
            page.click("text=Advanced options")
            assert page.is_checked("input[name=prefill]")  # loadsim's default, as headless
            page.fill("input[name=spawnRate]", "3")  # 9 HA pairs started over 3 s
            page.click("button:has-text('Start')")
            page.click("button[role=tab]:has-text('Redis Cluster')")
            # the live tab polls while the window fills (the summary needs 5 s of it: MIN_STEADY_S)
            wait(lambda f=folder: _live(ui, f).get("steady_from_s") is not None, 120, f"the window of {folder.name}")
            page.wait_for_timeout(7_000)
            page.click("button:has-text('Stop')")
            wait(lambda f=folder: _complete(f / "summary.json"), 120, f"the summary of {folder.name}")
            tables.append(_table_when(page, lambda t: any("(end of the run)" in d for _, d in t.values()),
                                      "the summary's figures in the tab"))
            if first_files is None:
                first_files = _files(out)
        browser.close()
    assert _files(out) == first_files  # the second test wrote its own folder and nothing in the first's
    texts = _texts(ui.log)
    assert len(texts) == 2, ui.log[-3000:]
    for folder, table, text in zip((out, second), tables, texts, strict=True):
        summary = _steady_window_is_a_headless_ones(folder)
        counts = {k: v["count"] for k, v in summary["operations"].items()}
        assert text["since"] == f"from {summary['steady_from_s']:.1f} s"
        assert text["rows"] == counts  # the run text
        with open(folder / "locust_stats.csv", newline="") as fh:  # Locust's own statistics (web UI, --csv)
            locust = {r["Name"]: int(r["Request Count"]) for r in csv.DictReader(fh) if r["Name"] != "Aggregated"}
        assert locust == {k: v for k, v in counts.items() if v}
        for name, op in summary["operations"].items():  # the tab
            if op["latency_us"]["count"]:
                value, detail = table[f"{name} p99"]
                assert value == f"{op['latency_us']['p99']:,} µs" and f"{op['count']:,} operations" in detail
    # the second test's own pre-fill, on a keyspace the first one's sessions had left
    assert "deleted the" in ui.log


def _locust_requests(ui):
    """Requests in Locust's own table now (its Aggregated row)."""
    stats = json.loads(http(ui.base + "/stats/requests") or "{}").get("stats", [])
    return sum(int(r.get("num_requests", 0)) for r in stats if r.get("name") == "Aggregated")


def _locust_csv_counts(folder):
    with open(folder / "locust_stats.csv", newline="") as fh:
        return {r["Name"]: int(r["Request Count"]) for r in csv.DictReader(fh) if r["Name"] != "Aggregated"}


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
def test_locusts_reset_stats_button_keeps_loadsims_record_and_says_so(tmp_path):
    """Locust's Reset button in the middle of the steady window: Locust's table (and locust_stats.csv) count from
    then; loadsim's record (the recorder, the summary, the Redis tab) keeps the whole window, and the tab, the run
    text and the summary say so. Before, the tab and the summary silently disagreed with Locust's table."""
    out = tmp_path / "run"
    with LocustUI("--results-dir", str(out), "--aht", "10", "--cps-per-pair", "10") as ui, \
            sync_api.sync_playwright() as pw:
        browser, page = open_start_page(pw, CHROMIUM, ui.base)
        page.click("text=Custom parameters")
        page.fill("input[name=userCount]", "2")
        page.click("button:has-text('Start')")
        # operations counted in the steady window before the reset, in loadsim's recorder and in Locust's table:
        # Locust's counts start when the engine's steady start wakes and flushes what it held (it can wake a few
        # hundred ms into the window on a busy host); a reset before that left Locust nothing to lose (seen once)
        wait(lambda: sum(op["count"] for op in _live(ui, out).get("operations", {}).values()) >= 20
             and _locust_requests(ui) > 0, 120, "steady operations in loadsim's figures and Locust's table")
        page.click("button:has-text('Reset')")
        page.click("button[role=tab]:has-text('Redis Cluster')")
        table = _table_when(page, lambda t: "Reset stats" in t, "the Reset stats row")
        assert table["Reset stats"][0] == "not applied to loadsim", table["Reset stats"]
        assert "Locust's table and locust_stats.csv count from then; loadsim's figures" in table["Reset stats"][1]
        page.wait_for_timeout(2_000)
        page.click("button:has-text('Stop')")
        wait(lambda: _complete(out / "summary.json"), 120, "the summary")
        final = _table_when(page, lambda t: any("(end of the run)" in d for _, d in t.values()),
                            "the summary's figures in the tab")
        browser.close()
    summary = json.loads((out / "summary.json").read_text())
    [at] = summary["locust_stats_reset_at_s"]
    assert summary["steady_from_s"] < at < summary["duration_s"], (summary["steady_from_s"], at)
    from loadsim.results.text import stats_reset_line

    assert final["Reset stats"] == ("not applied to loadsim", stats_reset_line([at]))  # the finished run's tab
    assert stats_reset_line([at]) in ui.log  # the run text
    # loadsim's counts are the whole window's: more than Locust's table kept after its reset
    locust, ours = _locust_csv_counts(out), {k: v["count"] for k, v in summary["operations"].items()}
    assert sum(locust.values()) < sum(ours.values()), (locust, ours)
    assert all(locust.get(k, 0) <= v for k, v in ours.items()), (locust, ours)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: install Debian's chromium (scripts/ensure-browser.sh)")
def test_a_test_that_ends_in_its_warm_up_shows_no_steady_window_not_a_projection(tmp_path):
    """A test from the form whose run time ends inside its warm-up: the tab's verdict row and the charts page say
    there is no steady window (the summary's reason); before, they kept the live projection's "PASS so far"."""
    out = tmp_path / "run"
    with LocustUI("--results-dir", str(out), "--warmup", "60", "--prefill", "false") as ui, \
            sync_api.sync_playwright() as pw:
        browser, page = open_start_page(pw, CHROMIUM, ui.base)
        page.click("text=Custom parameters")
        page.click("text=Advanced options")
        page.fill("input[name=userCount]", "2")
        page.fill("input[name=runTime]", "4s")
        page.click("button:has-text('Start')")
        page.click("button[role=tab]:has-text('Redis Cluster')")
        wait(lambda: _complete(out / "summary.json"), 120, "the summary")
        summary = json.loads((out / "summary.json").read_text())
        assert summary["steady_from_s"] is None and summary["no_steady_window"]
        text = f"no sizing verdict for this run: no steady window: {summary['no_steady_window']}"
        table = _table_when(page, lambda t: t.get("verdict", ("",))[0] == "none", "the verdict row of the ended test")
        assert table["verdict"] == ("none", text), table["verdict"]
        frame = page.frame_locator("iframe.loadsim-charts")
        wait(lambda: frame.locator("#verdict").inner_text() == text, 30, "the charts page's verdict")
        browser.close()
