"""The Content-Security-Policy (config/settings/base.py, django-csp) on every page: scripts and
style elements only from our own origin or carrying the response's nonce, no plugin, no
framing, forms and <base> only to ourselves. The headless-Chromium journey at the end checks
that the main pages log no violation and still work (menus, the signed step form, Swagger UI)."""
import os
import re
import shutil

import pytest
from django.test import Client

from workflows.demo import DEMO_PASSWORD

HEADER = "Content-Security-Policy"


def directives(response):
    policy = response.headers[HEADER]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def nonce_of(response):
    return re.search(r"'nonce-([^']+)'", directives(response)["script-src"][1]).group(1) \
        if len(directives(response)["script-src"]) > 1 else None


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def assert_strict(policy):
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    for directive in ("script-src", "style-src"):
        assert policy[directive][0] == "'self'"
        assert all(source.startswith("'nonce-") for source in policy[directive][1:]), policy[directive]
    assert policy["style-src-attr"] == ["'unsafe-inline'"]  # the one relaxation (style="…" attributes)


@pytest.mark.django_db
def test_the_login_page_the_admin_and_the_api_docs_carry_the_strict_policy(people):
    pages = {
        "login": Client().get("/accounts/login/"),
        "admin login": Client().get("/admin/login/"),
        "admin": signed_in(people["admin"]).get("/admin/"),
        "admin form": signed_in(people["admin"]).get("/admin/django_celery_beat/periodictask/add/"),
        "api docs": signed_in(people["quality"]).get("/api/docs/"),
        "dashboard": signed_in(people["quality"]).get("/qms/dashboard/"),
        "browsable api": signed_in(people["quality"]).get("/api/records/", HTTP_ACCEPT="text/html"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/html"), name
        assert_strict(directives(response))


@pytest.mark.django_db
def test_inline_scripts_and_styles_carry_the_nonce_of_their_own_response(people):
    client = signed_in(people["quality"])
    docs = client.get("/api/docs/")
    nonce = nonce_of(docs)
    html = docs.content.decode()
    assert nonce and f'<script nonce="{nonce}">' in html and f'<style nonce="{nonce}">' in html
    # every inline script and style element of the page carries it; no inline event handler
    assert len(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)) == html.count(f'<script nonce="{nonce}"')
    assert len(re.findall(r"<style\b", html)) == html.count(f'<style nonce="{nonce}"')
    again = client.get("/api/docs/")
    assert nonce_of(again) != nonce  # a fresh nonce for every response
    page = client.get("/qms/dashboard/")
    assert f'<meta name="csp-nonce" content="{nonce_of(page)}">' in page.content.decode()  # for Turbo's progress bar


INLINE = re.compile(r"<(script|style)\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


def unmarked_inline(response):
    """The inline <script>/<style> elements of a page that lack its response's nonce."""
    nonce = nonce_of(response)
    return [tag for tag in (m.group(0) for m in INLINE.finditer(response.content.decode()))
            if nonce is None or f'nonce="{nonce}"' not in tag]


@pytest.mark.django_db
def test_no_page_of_a_process_has_an_inline_script_or_style_without_the_nonce(people, order_data):
    from p1_driver import start
    from viewflow.workflow.models import Task

    process = start(people["market"], order_data())
    task = Task.objects.filter(process=process, flow_task_type="HUMAN").order_by("-pk").first()
    pages = [f"/qms/flows/orderreview/{process.pk}/", f"/qms/flows/orderreview/{process.pk}/cancel/",
             f"/qms/flows/orderreview/{process.pk}/{task.flow_task.name}/{task.pk}/detail/",
             "/qms/flows/orderreview/tasks/", "/qms/flows/orderreview/flows/", "/qms/dashboard/", "/qms/inbox/",
             "/qms/queue/", "/qms/archive/", "/qms/records/", "/qms/documents/", "/qms/evidence/", "/admin/",
             "/admin/core/record/", "/admin/django_celery_beat/periodictask/add/", "/api/docs/"]
    client = signed_in(people["admin"])
    checked = 0
    for path in pages:
        response = client.get(path)
        if response.status_code != 200:
            continue
        checked += 1
        assert unmarked_inline(response) == [], path
    assert checked >= 12
    # the process cancel page of viewflow carried one (templates/viewflow/workflow/process_cancel.html drops it)
    assert client.get(f"/qms/flows/orderreview/{process.pk}/cancel/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("action, back", [("/qms/queue/assign/", "/qms/queue/"), ("/qms/inbox/unassign/", "/qms/inbox/")])
def test_the_bulk_assign_pages_go_back_by_a_link_not_an_inline_handler(people, order_data, action, back):
    from p1_driver import open_task, start
    from workflows import actions

    process = start(people["market"], order_data())
    task = open_task(process, "review_quality")
    if action.endswith("unassign/"):
        actions.claim_task(task, actor=people["quality"])
    response = signed_in(people["quality"]).post(action, {"pk": [task.pk]})  # the confirmation page
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handler: the policy would refuse it
    assert f'href="{back}"' in html


@pytest.mark.django_db
def test_a_page_without_inline_script_names_no_nonce(people):
    response = Client().get("/admin/login/")
    assert directives(response)["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_a_flow_chart_opened_on_its_own_gets_the_stricter_svg_policy(people):
    response = signed_in(people["quality"]).get("/qms/flows/orderreview/chart/")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    policy = directives(response)
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy
    assert policy["style-src"] == ["'unsafe-inline'"]
    assert "<style" in response.content.decode()


# --- in a real browser ---------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-packages.sh installs it)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox",
                                                                             "--disable-gpu"])
        yield browser
        browser.close()
        from django.db import connections

        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Visitor:
    """A browser session that records every CSP violation and console report of one."""

    def __init__(self, browser, base):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.reports, self.errors = [], []
        self.page.on("console", lambda message: self.reports.append(message.text)
                     if "Content Security Policy" in message.text else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.violations = []

    def collect(self):
        self.violations += [f"{self.page.url}: {v}" for v in self.page.evaluate("window.__csp || []")]

    def open(self, path):
        self.collect()
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        assert response.status == 200, (path, response.status)
        return response

    def sign_in(self, username, password=DEMO_PASSWORD):
        self.open("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit], input[type=submit]")
        self.page.wait_for_url(lambda url: "/login" not in url)

    def check(self):
        self.collect()
        assert self.violations == [] and self.reports == [], self.violations + self.reports
        assert self.errors == [], self.errors


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_log_no_violation_and_still_work_in_a_real_browser(chromium, live_server, people, order_data):
    from core.models import Signature
    from p1_driver import start
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from procedures.order_review.flows import OrderReviewFlow

    from procedures.order_review.models import order_review_of
    from procedures.order_review.seed import review_answers

    process = start(people["market"], order_data())
    record = order_review_of(process).record

    quality = Visitor(chromium, live_server.url)
    quality.sign_in("quality")
    for path in ("/qms/dashboard/", "/qms/inbox/", "/qms/records/", f"/qms/records/{record.number}/"):
        response = quality.open(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # the menu: a Turbo navigation from the side menu to the queue
    quality.open("/qms/dashboard/")
    quality.page.click("a.vf-page__menu-list-item[href='/qms/queue/']")
    quality.page.wait_for_url("**/qms/queue/")
    quality.page.wait_for_load_state("networkidle")
    # the step form with its signature: claim the review from the queue, give a verdict, sign
    quality.page.click(f"a[href*='/{process.pk}/review_quality/']")
    quality.page.wait_for_load_state()
    quality.page.click("button[name=_continue]")
    quality.page.wait_for_selector("form.qms-form")
    quality.collect()
    quality.page.check("input[name=verdict][value=can_meet]")
    for category, answer in review_answers("quality").items():  # each requirement category (REQ-2)
        quality.page.check(f"input[name={category}][value={answer}]")
    quality.page.fill("#id_comment", "OK")
    if quality.page.locator("#id_sig-username").count():
        quality.page.fill("#id_sig-username", "quality")
    quality.page.fill("#id_sig-password", DEMO_PASSWORD)
    quality.page.click("#complete")
    quality.page.wait_for_url(lambda url: "/execute/" not in url)
    quality.page.wait_for_load_state("networkidle")
    task = Task.objects.get(process=process, flow_task=OrderReviewFlow.review_quality)
    assert task.status == STATUS.DONE
    assert Signature.objects.filter(signer=people["quality"], record_version__record=record).exists()
    # Swagger UI renders the API from its own (nonce-marked) start-up script
    quality.open("/api/docs/")
    quality.page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    # it draws only the operations near the window (how many depends on the whole list's length): the API's
    # title and the first tag's operations show that it ran and read the schema
    assert "QMS engine API" in quality.page.locator(".swagger-ui .info .title").inner_text()
    assert quality.page.locator(".swagger-ui .opblock").count() >= 2
    quality.check()

    admin = Visitor(chromium, live_server.url)
    admin.sign_in("admin")
    admin.open("/admin/")
    admin.open("/admin/django_celery_beat/periodictask/add/")
    assert admin.page.locator("#periodic-task-overrides").count() == 1
    admin.page.wait_for_function("document.querySelector('.field-crontab_translation') === null"
                                 " || getComputedStyle(document.querySelector('.field-crontab_translation'))"
                                 ".display === 'none'")  # its nonce-marked script ran
    admin.check()

    visitor = Visitor(chromium, live_server.url)
    visitor.open("/accounts/login/")
    visitor.check()
