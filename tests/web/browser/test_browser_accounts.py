"""The page with accounts on: sign up, see the quota line and the account page, make a token, sign out."""

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import uvicorn

from voicestudio.settings import PACKAGE_STATIC_DIR
from web.accounts import PASSWORD, accounts_studio
from web.server import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real front end with accounts on, served over HTTP by uvicorn in a thread."""
    with accounts_studio(
        tmp_path_factory.mktemp("browser-accounts"), static_dir=PACKAGE_STATIC_DIR
    ) as started:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(started.app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise AssertionError("uvicorn did not start")
            thread.join(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join()


def test_a_singer_signs_up_on_the_page_and_sees_what_the_plan_leaves(
    served_url: str, plain_browser: "Browser"
) -> None:
    from playwright.sync_api import expect

    from web.browser.driver import VIEWPORT

    context = plain_browser.new_context(viewport=VIEWPORT)  # its own cookies: a new visitor
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(served_url + "/")
        expect(page.get_by_test_id("sign-in-page")).to_be_visible()  # 401: the page asks to sign in
        page.get_by_test_id("sign-up-email").fill("page@example.org")
        page.get_by_test_id("sign-up-password").fill(PASSWORD)
        page.get_by_test_id("sign-up-submit").click()

        expect(page.get_by_test_id("projects-page")).to_be_visible()
        expect(page.get_by_test_id("quota-line")).to_have_text(
            "Free: 0 of 3 projects · 0 bytes of 300.0 kB stored"
        )
        page.get_by_test_id("project-name").fill("Page CV")
        page.get_by_test_id("prompt-set-ja-cv").check()
        page.get_by_test_id("create-submit").click()  # a POST: the page sends its CSRF token
        expect(page.get_by_test_id("project-row")).to_have_count(1)

        page.get_by_test_id("nav-account").click()
        expect(page.get_by_test_id("account-email")).to_have_text("page@example.org")
        expect(page.get_by_test_id("quota-projects")).to_have_text("1 of 3")
        expect(page.get_by_test_id("quota-gpu")).to_have_text("not in this plan (UTAU voicebanks only)")
        expect(page.get_by_test_id("no-trainings")).to_be_visible()
        expect(page.get_by_test_id("quota-line")).to_have_text(
            "Free: 1 of 3 projects · 0 bytes of 300.0 kB stored"
        )
        page.get_by_test_id("token-create").click()
        expect(page.get_by_test_id("new-token")).to_contain_text("vst_")
        expect(page.get_by_test_id("token-row")).to_have_count(1)

        page.get_by_test_id("sign-out").click()
        expect(page.get_by_test_id("sign-in-page")).to_be_visible()
        expect(page.get_by_test_id("quota-line")).to_be_hidden()
        status = page.evaluate("fetch('/api/projects').then((r) => r.status)")
        assert status == 401
        assert errors == []
    finally:
        context.close()
