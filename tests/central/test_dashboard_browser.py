"""The dashboard in a real browser: Debian's headless Chromium logs in, reads
right to left, sees a figure change live when a row changes in PostgreSQL
(without a reload), is refused without a login, and takes screenshots at a
wall screen's and a phone's size (kept in pytest's temporary folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from appliance.central.web.server import DashboardServer
from tests.support.dashboard import (
    PASSWORD,
    USER,
    Ticket,
    add_ticket,
    fill,
    utcnow,
)

pytestmark = pytest.mark.slow

WALL, PHONE = (1920, 1080), (412, 915)


def _wait(browser: Any, condition: Any, what: str, timeout: float = 20) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        pytest.fail(f"{what} (page: {browser.current_url})")


def _text(browser: Any, css: str) -> str:
    """The text of the first element ``css`` matches, read in one step (a live
    update may replace the element between a lookup and a read)."""
    text = browser.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.innerText : ''", css
    )
    return str(text)


def _login(browser: Any, base: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base + "/login")
    browser.find_element(By.NAME, "user").send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    _wait(browser, lambda b: b.current_url == base + "/", "the login did not lead to the overview")


def test_browser_live_rtl_and_refused(
    store_db: psycopg.Connection[Any], dashboard: DashboardServer, chromium: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    browser = chromium
    base = dashboard.url
    now = utcnow()
    fill(store_db, now)
    browser.delete_all_cookies()
    browser.set_window_size(*WALL)

    # Without a login: sent to the login page, the figures are not there,
    # and the event stream answers 401.
    browser.get(base + "/branch/giza-dokki")
    assert browser.current_url == base + "/login"
    assert "الدقي" not in browser.page_source
    status = browser.execute_async_script(
        "const done = arguments[0]; fetch('/stream').then(r => done(r.status))"
    )
    assert status == 401

    _login(browser, base)
    waiting = "#b-giza-dokki .figs [data-k=waiting]"
    _wait(browser, lambda b: _text(b, waiting) == "2", "the overview never showed 2 waiting")
    # Right to left: the document says so, and a card's title sits at its right.
    assert browser.execute_script("return document.documentElement.dir") == "rtl"
    assert browser.execute_script("return document.documentElement.lang") == "ar"
    assert browser.execute_script("return getComputedStyle(document.body).direction") == "rtl"
    card_right, title_right, title_left, card_left = browser.execute_script(
        "const c = document.querySelector('#b-giza-dokki').getBoundingClientRect();"
        "const t = document.querySelector('#b-giza-dokki h2 a').getBoundingClientRect();"
        "return [c.right, t.right, t.left, c.left]"
    )
    assert card_right - title_right < title_left - card_left
    # A hostile branch name is shown as text, never run.
    assert "<img src=x" in _text(browser, "#b-alex-raml h2")
    assert browser.title != "pwned"
    assert "منقطع منذ" in _text(browser, "#b-cairo-nasr [data-k=link]")
    browser.save_screenshot(str(tmp_path / "dashboard-wall.png"))

    # A row changes in PostgreSQL: the figure changes on the page, no reload.
    browser.execute_script("window.nidaaNoReload = 'same page'")
    add_ticket(store_db, Ticket("giza-dokki", 7, "civil", "waiting", 30), utcnow(), 7)
    store_db.commit()
    _wait(browser, lambda b: _text(b, waiting) == "3", "the new ticket never appeared live")
    assert browser.execute_script("return window.nidaaNoReload") == "same page"

    # One branch's page on a phone: live too, its table per service.
    browser.set_window_size(*PHONE)
    browser.get(base + "/branch/giza-dokki")
    row = "tr[data-service=civil] [data-k=waiting]"
    _wait(browser, lambda b: _text(b, row) == "2", "the branch page never showed 2 in civil")
    store_db.execute("UPDATE branches SET link = 'offline', link_since = now()"
                       " WHERE branch = 'giza-dokki'")  # fmt: skip
    store_db.commit()
    _wait(browser, lambda b: "منقطع منذ" in _text(b, "[data-k=link]"),
          "the branch never showed its link down")  # fmt: skip
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0] + 1  # no sideways scrolling of the page (the table scrolls alone)
    browser.save_screenshot(str(tmp_path / "dashboard-phone.png"))
    for name in ("dashboard-wall.png", "dashboard-phone.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Logging out ends the session: the page goes back to the login.
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, ".bar button").click()
    _wait(browser, lambda b: b.current_url == base + "/login", "logout did not end the session")
    browser.get(base + "/")
    assert browser.current_url == base + "/login"
