"""One real-browser journey through a whole P1 approval: headless Chromium (Debian's
package) driven by Playwright against the live test server. Screenshots go to
var/screenshots/ for a person to look at."""
import datetime
import os
import shutil
from pathlib import Path

import pytest

from core.models import RecordFile, Signature
from p1_driver import REVIEW_STEPS, review_data
from procedures.order_review.models import DepartmentReview, OrderReview, OrderReviewStatus
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-packages.sh installs it)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between page actions are ordinary synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()
        # The test's database connection was opened while Playwright's event loop ran in
        # this thread, and the session's teardown no longer finds it: close it here, or
        # PostgreSQL refuses to drop the test database ("being accessed by other users").
        from django.db import connections

        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Person:
    def __init__(self, browser, live_server, username):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        self.page = self.context.new_page()
        self.base = live_server.url
        self.username = username
        self.signed = False
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit], input[type=submit]")
        self.page.wait_for_url(lambda url: "/login" not in url)

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def claim_and_open(self, pid, step):
        """From the department queue: one click on the row's "Claim and open" lands on its form."""
        page = self.page
        page.goto(f"{self.base}/qms/queue/")
        page.click(f"tr:has(a[href*='/{pid}/{step}/']) button[id^='queue-tasks-claim-']")
        page.wait_for_selector("form.qms-form")

    def sign_and_complete(self, meaning=None):
        page = self.page
        if page.locator("#id_sig-username").count():
            page.fill("#id_sig-username", self.username)
        page.fill("#id_sig-password", DEMO_PASSWORD)
        # the decision is the button pressed, each naming the meaning it records
        page.click(f"button[name='sig-meaning'][value='{meaning}']" if meaning else "#complete")
        page.wait_for_load_state()


def test_market_starts_five_departments_review_and_the_manager_approves_in_a_real_browser(
        browser, live_server, people, future):
    from viewflow.workflow.models import Process

    # Market: fill the intake form with two line items
    market = Person(browser, live_server, "market")
    page = market.page
    page.goto(f"{live_server.url}/qms/flows/orderreview/start/")
    page.select_option("#id_kind", "order")
    page.select_option("#id_customer", "C002")
    page.fill("#id_order_number", "PO-BROWSER-1")
    page.fill("#id_order_date", datetime.date.today().isoformat())
    page.fill("#id_special_requirements", "盐雾试验 96 小时 96 h salt-spray test")
    for index, (product, qty, days) in enumerate([("P-1001", "500", 30), ("P-2001", "120", 40)]):
        if not page.locator(f"#id_lines-{index}-product").count():
            page.click("#add-line-lines")
        page.select_option(f"#id_lines-{index}-product", product)
        page.fill(f"#id_lines-{index}-quantity", qty)
        page.fill(f"#id_lines-{index}-unit_price", "10")
        page.fill(f"#id_lines-{index}-delivery_date", future(days))
    market.shot("01-market-intake")
    page.click("#complete")
    page.wait_for_url(lambda url: "/start/" not in url)
    review = OrderReview.objects.get(order_number="PO-BROWSER-1")
    pid = review.record.process_id
    assert review.lines.count() == 2
    market.shot("02-process-started")

    # Five departments, Market's own review first: from their queues, claim, give a verdict, answer each
    # requirement category (REQ-2; Market also its opinion on delivery date, price and packaging) and sign
    for dept, step in REVIEW_STEPS.items():
        person = market if dept == "market" else Person(browser, live_server, dept)
        person.claim_and_open(pid, step)
        person.page.check("input[name=verdict][value=can_meet]")
        person.page.fill("#id_comment", f"{dept} OK")
        for name, value in review_data(dept).items():
            if name.startswith("category_"):
                person.page.check(f"input[name={name}][value={value}]")
            elif name.startswith("opinion_"):
                person.page.fill(f"#id_{name}", value)
        if dept == "materials":
            person.page.select_option("#id_material_readiness", "ready")
        person.shot(f"03-{dept}-review")
        person.sign_and_complete()
        assert "/execute/" not in person.page.url, person.page.content()[:2000]

    # Market manager approves with a signature
    manager = Person(browser, live_server, "market_mgr")
    manager.claim_and_open(pid, "approve")
    manager.page.fill("#id_conclusion", "同意接单 Order accepted")
    manager.shot("04-approval")
    manager.sign_and_complete("approved")
    assert "/execute/" not in manager.page.url

    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED
    assert Signature.objects.filter(record_version__record=review.record).count() == 6
    # what each reviewer answered in the browser is what was saved
    saved = {r.department: r for r in DepartmentReview.objects.filter(round__order_review=review)}
    assert sorted(saved) == sorted(REVIEW_STEPS)
    for dept, department_review in saved.items():
        answers = review_data(dept)
        assert department_review.categories == {name.removeprefix("category_"): value
                                                for name, value in answers.items() if name.startswith("category_")}
        assert department_review.market_opinion == ({name.removeprefix("opinion_"): value for name, value in
                                                     answers.items() if name.startswith("opinion_")})
    review.record.refresh_from_db()
    assert RecordFile.objects.filter(record_version__record=review.record, kind="pdf").exists()
    assert Process.objects.get(pk=pid).status != "CANCELED"

    # The record page shows every signature; its PDF downloads
    manager.page.goto(f"{live_server.url}/qms/records/{review.record.number}/")
    text = manager.page.inner_text("#signatures")
    for name in ["李娜 Li Na", "王芳 Wang Fang", "陈静 Chen Jing", "杨磊 Yang Lei", "赵敏 Zhao Min", "张伟 Zhang Wei"]:
        assert name in text
    manager.shot("05-record")
    response = manager.page.request.get(
        f"{live_server.url}/qms/records/{review.record.number}/v{review.record.current_version}/pdf/")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
