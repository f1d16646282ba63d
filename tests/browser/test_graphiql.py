"""GraphiQL in a real browser, on a real ``listbackup dev``: Debian's chromium (headless,
driven through chromedriver by Selenium) signs up and in through a mutation, puts the
token in the headers editor, starts a demo backup and watches it to COMPLETED through a
``jobUpdates`` subscription, the token riding in the WebSocket's connection params.

The browser resolves no host but this machine's: the page must work offline. Needs
``apt-get install chromium chromium-driver`` (``.ci/run`` does it); Selenium never
downloads a browser or a driver here.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.dev_process import DevStack, running_dev

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these chromium phones home on start, and a closed network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but this machine is unknown: a CDN asset could never load.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1400,900",
)
#: Records per data type of the demo platform (three types): a job of a few seconds,
#: long enough for its progress to show before it completes.
RECORDS = 10_000
PASSWORD = "Passw0rd!x"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
#: The Variables and Headers editors share a pane; the hidden one has `.hidden`.
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the browser test needs Debian's chromium; "
            "run `apt-get install chromium chromium-driver` (as .ci/run does)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevStack]:
    """``listbackup dev``; its log beside the screenshot."""
    log = tmp_path / "listbackup-dev.log"
    with running_dev(log) as stack:
        yield stack
    print(f"listbackup dev's log: {log}")


class GraphiQL:
    """The page, through GraphiQL's own editors (CodeMirror) and buttons."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        driver.get(url)
        self.wait(20).until(lambda d: d.find_elements(By.CSS_SELECTOR, QUERY_EDITOR))

    def wait(self, seconds: float) -> WebDriverWait[WebDriver]:
        return WebDriverWait(self.driver, seconds, poll_frequency=0.05)

    def editor(self, selector: str, value: str | None = None) -> str:
        script = "const cm = document.querySelector(arguments[0]).CodeMirror;"
        if value is not None:
            script += "cm.setValue(arguments[1]);"
        text: str = self.driver.execute_script(script + "return cm.getValue();", selector, value)
        return text

    def set_headers(self, headers: dict[str, str]) -> None:
        self.driver.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
        self.wait(5).until(lambda d: d.find_elements(By.CSS_SELECTOR, TOOL_EDITOR))
        self.editor(TOOL_EDITOR, json.dumps(headers))

    def execute(self, document: str) -> None:
        self.editor(QUERY_EDITOR, document)
        # GraphiQL parses the editor's text 100 ms after a change, and picks HTTP or the
        # WebSocket by that parse: run only once it is of this document.
        self.wait(5).until(
            lambda d: d.execute_script(
                "const cm = document.querySelector(arguments[0]).CodeMirror;"
                "return cm.documentAST?.loc?.source.body === cm.getValue();",
                QUERY_EDITOR,
            )
        )
        self.editor(RESULT, "")
        self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def run(self, document: str) -> dict[str, Any]:
        """Run a query or mutation; its data (it must have no errors)."""
        self.execute(document)
        shown = self.wait(10).until(lambda _: self.editor(RESULT))
        body: dict[str, Any] = json.loads(shown)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def watch(self, document: str, *, until: str, within: float) -> list[dict[str, Any]]:
        """Run a subscription; every distinct result the pane shows, up to one that
        contains ``until`` (or an error)."""
        self.execute(document)
        seen: list[str] = []

        def finished(_: WebDriver) -> bool:
            shown = self.editor(RESULT)
            if shown and (not seen or seen[-1] != shown):
                seen.append(shown)
            return until in shown or '"errors"' in shown

        self.wait(within).until(finished)
        return [json.loads(text) for text in seen]


def _literal(value: str) -> str:
    """A GraphQL string literal (JSON's escapes are GraphQL's)."""
    return json.dumps(value)


@pytest.mark.slow
def test_a_backup_watched_live_from_graphiql(
    browser: WebDriver, dev: DevStack, tmp_path: Path, record_property: Any
) -> None:
    started = time.monotonic()
    screenshot = tmp_path / "graphiql.png"
    try:
        page = GraphiQL(browser, f"{dev.url}/graphql")
        email = _literal(f"graphiql-{uuid.uuid4().hex[:8]}@example.com")
        # Root mutation fields run in order: signed up (and, locally, confirmed), then in.
        session = page.run(
            f"mutation {{ signUp(input: {{email: {email}, password: {_literal(PASSWORD)}, "
            f'name: "Ada"}}) {{ userConfirmed }} '
            f"signIn(email: {email}, password: {_literal(PASSWORD)}) "
            "{ accessToken user { currentAccount { id } } } }"
        )
        token = session["signIn"]["accessToken"]
        account = session["signIn"]["user"]["currentAccount"]["id"]
        page.set_headers({"Authorization": f"Bearer {token}"})

        connection = page.run(
            "mutation { createApiKeyConnection(input: {"
            f'accountId: {_literal(account)}, platformId: "UGxhdGZvcm06ZGVtbw", name: "Demo", '
            f'credentials: {{apiKey: "k-graphiql", recordsPerType: "{RECORDS}"}}}}) {{ id }} }}'
        )["createApiKeyConnection"]["id"]
        source = page.run(
            f"mutation {{ createSource(input: {{connectionId: {_literal(connection)}, "
            'name: "Demo"}) { id } }'
        )["createSource"]["id"]
        job = page.run(f"mutation {{ runSource(id: {_literal(source)}) {{ id status }} }}")
        job_id = job["runSource"]["id"]

        # Over the WebSocket: the headers editor's token is the connection's params.
        events = page.watch(
            f"subscription {{ jobUpdates(jobId: {_literal(job_id)}) {{ status "
            "progress { percent currentStep recordsProcessed } } }",
            until='"COMPLETED"',
            within=40,
        )
        browser.save_screenshot(str(screenshot))  # the subscription's last answer
        done = page.run(
            f"{{ job(id: {_literal(job_id)}) {{ status files {{ dataType recordCount }} }} }}"
        )["job"]
    finally:
        if not screenshot.exists():  # failed before: how the page looked then
            browser.save_screenshot(str(screenshot))
        record_property("screenshot", str(screenshot))
        print(f"GraphiQL screenshot: {screenshot}")

    assert "errors" not in events[-1], events[-1]
    updates = [event["data"]["jobUpdates"] for event in events]
    assert job["runSource"]["status"] == "QUEUED"
    assert updates[-1]["status"] == "COMPLETED"
    assert updates[-1]["progress"]["percent"] == 100
    assert done["status"] == "COMPLETED"
    counts = {f["dataType"]: f["recordCount"] for f in done["files"]}
    assert {t: counts.get(t) for t in ("contacts", "companies", "deals")} == dict.fromkeys(
        ("contacts", "companies", "deals"), RECORDS
    )
    # Progress showed on the page before the job completed, and only ever grew.
    during = [u for u in updates if u["status"] in ("QUEUED", "RUNNING")]
    assert during, updates
    percents = [(u["progress"] or {}).get("percent") or 0 for u in updates]
    assert percents == sorted(percents)
    # Nothing failed in the page: no blocked (CSP), missing or tampered (integrity) file.
    logs: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[attr-defined]
    problems = [e for e in logs if e["level"] == "SEVERE"]
    assert problems == []
    assert screenshot.stat().st_size > 0
    assert time.monotonic() - started < 45
