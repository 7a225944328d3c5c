"""Browser journeys in real Chromium (Debian's /usr/bin/chromium; Playwright cannot download
its own browsers here) against a real uvicorn serving the app over a migrated SQLite file."""
import os
import shutil
import socket
import threading
import time
from types import SimpleNamespace

import pytest

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")

import uvicorn  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.support.world import _world_sqlite  # noqa: E402,F401
from shebao.channels.web import create_app  # noqa: E402
from shebao.db.engine import make_engine  # noqa: E402

CHROMIUM = os.environ.get("SHEBAO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium chromium-driver "
                    f"(.ci/run does this)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory, _world_sqlite):
    src, world = _world_sqlite
    path = tmp_path_factory.mktemp("e2e") / "shebao.db"
    shutil.copy(src, path)
    engine = make_engine(f"sqlite:///{path}")
    app = create_app(mode="dev", engine=engine, login_rate_limit=100000)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", world=world, engine=engine)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def sign_in(page, live, username):
    page.goto(live.url + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", live.world.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def submit_for_check(page):
    """The maker puts the decision up for a second clerk and is not offered the approval."""
    page.get_by_role("button", name="提交复核").click()
    expect(page.get_by_test_id("case-status")).to_have_text("待复核")
    expect(page.get_by_test_id("own-submission")).to_be_visible()
    expect(page.get_by_role("button", name="复核通过")).to_have_count(0)


def second_clerk_approves(browser, live, path):
    """Another clerk of the district opens ``path`` and approves; the case is decided, granted.
    Returns (context, page) for the caller's further checks; the caller closes the context."""
    checker = browser.new_context(locale="zh-CN")
    page = checker.new_page()
    sign_in(page, live, "benefits_clerk-2-310104")
    page.goto(f"{live.url}{path}")
    page.get_by_role("button", name="复核通过").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已办结")
    expect(page.get_by_test_id("outcome")).to_have_text("准予")
    return checker, page
