"""One look, both languages, any width: the main pages of each menu (staff, approver,
auditor) in zh-Hans and English at a phone's 390 px and a laptop's 1366 px, in a real browser
(Debian's chromium through Playwright). For each page: it loads (< 400, not the login page),
the browser console stays clean, a phone never scrolls sideways, and no raw code
(dept_..., DONE, NEW, STARTED, {'...}, False, None) shows where a label belongs.
Screenshots: var/screenshots/screens/<role>-<page>-<lang>-<width>.png."""
import re

import pytest
from test_browser_journey import CHROMIUM, SHOTS, browser  # noqa: F401 (the fixture)

from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = SHOTS / "screens"
WIDTHS = (390, 1366)
LANGUAGES = ("zh-hans", "en")
AUDITOR_PASSWORD = "Screens-pass-2026"
# whole words only: "None" inside "Nonexistent" or "NEW" inside "NEWS" is no raw value, nor the
# bilingual "无 None" a record prints for an empty requirement
RAW = re.compile(r"\bdept_\w*|\{'|(?<![\w-])(?:DONE|NEW|STARTED|False|(?<!无 )None)(?![\w-])")

# the innermost elements reaching past the right edge (named in the failure message)
WIDE = """width => { const right = el => Math.max(el.getBoundingClientRect().right, el.getBoundingClientRect().left + el.scrollWidth);
    return [...document.querySelectorAll('body *')].filter(el => right(el) > width + 1
    && ![...el.children].some(child => right(child) > width + 1))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined
    ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(right(el))); }"""
STAFF_PAGES = {"inbox": "/qms/inbox/", "queue": "/qms/queue/", "dashboard": "/qms/dashboard/",
               "archive": "/qms/archive/", "records": "/qms/records/", "record": "{record}", "documents": "/qms/documents/",
               "notifications": "/qms/notifications/"}
ROLES = {
    "market": STAFF_PAGES,
    "quality": {"inbox": "/qms/inbox/", "queue": "/qms/queue/"},
    "quality_mgr": {**STAFF_PAGES, "evidence": "/qms/evidence/", "disposition": "/qms/evidence/disposition/",
                    "delegations": "/qms/delegations/"},
    "visitor": {"auditor": "/qms/auditor/", "records": "/qms/records/", "record": "{record}",
                "evidence": "/qms/evidence/"},
    "admin": {"stored_files": "/qms/evidence/stored-files/"},
}


@pytest.fixture
def world(people, order_data):
    from django.contrib.auth import get_user_model
    from p1_driver import open_task, start

    from evidence.grants import grant_auditor_access
    from procedures.order_review.models import OrderReview
    from workflows import actions

    process = start(people["market"], order_data(number="PO-SCREENS-1"))
    start(people["market"], order_data(number="PO-SCREENS-2"))
    # quality's own inbox has a row to show as a card; the other reviews wait in the queues
    actions.claim_task(open_task(process, "review_quality"), actor=people["quality"])
    visitor = get_user_model().objects.create_user("visitor", password=AUDITOR_PASSWORD, display_name="Visitor")
    grant_auditor_access(visitor, granted_by=people["admin"], reason="external audit 2026")
    from procedures.documents.models import Document, DocumentType  # one register entry: the register has a row

    Document.objects.create(number="QP-SCR-01", title_zh="屏幕检查程序", title_en="Screen check procedure",
                            doc_type=DocumentType.values[0], owner_department="quality")
    stored_files_look(people["admin"])
    return {"record": f"/qms/records/{OrderReview.objects.get(order_number='PO-SCREENS-1').record.number}/"}


def stored_files_look(admin):
    """A look at the storage that found a file of each kind (removable, named, quiet, removed since), for the
    stored-files page."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from core import audit
    from core.stray_files import StrayFile
    from evidence import stray_sweeps

    with transaction.atomic():
        entry = audit.log("record.rendered", ("storage.file", "1", "x"), actor=admin,
                          new={"file": "records/2026/OR-2026-0007-v2.pdf", "kind": "pdf", "version": 2})
    now = timezone.now() - datetime.timedelta(hours=3)
    sweep = stray_sweeps.record_nightly([
        StrayFile(name="attachments/2026/12/现场照片-批次B0412.jpg", size=40_003, modified=now, sha256="a" * 64),
        StrayFile(name="records/2026/OR-2026-0007-v2.pdf", size=120_400, modified=now, sha256="b" * 64,
                  kept="named", detail={"entry": entry.seq, "action": entry.action}),
        StrayFile(name="records/2023/OR-2023-0117-v1.pdf", size=16_600, modified=now - datetime.timedelta(days=900),
                  sha256="c" * 64, kept="quiet", detail={"hours": 2}),
        StrayFile(name="records/2026/OR-2026-0007-v3.pdf", size=33_200, modified=now, sha256="d" * 64)])
    sweep.files[-1]["removed"] = {"at": timezone.now().isoformat(), "by": "admin", "by_name": admin.printed_name,
                                  "entry": entry.seq + 1}
    sweep.save(update_fields=["files"])


def log_in(chromium, base, username, language):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", AUDITOR_PASSWORD if username == "visitor" else DEMO_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page, errors


def look(page, errors, url, name):
    """Open `url` at the page's current width; the list of problems found (empty: all good)."""
    problems = []
    errors.clear()
    response = page.goto(url)
    # The pages fetch nothing after their load event (no XHR, no lazy frames), so "load" is when they are
    # drawn; "networkidle" would add its 500 ms quiet window to each of the 170 page views of this module.
    page.wait_for_load_state("load")
    if response is None or response.status >= 400 or "/login" in page.url:
        return [f"{name}: status {response and response.status} at {page.url}"]
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    if errors:
        problems.append(f"{name}: console errors {errors[:3]}")
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if width < 600 and scroll > width:
        problems.append(f"{name}: scrolls sideways ({scroll} > {width}): {page.evaluate(WIDE, width)}")
    if width < 600:  # lists are cards on a phone: no row is a table row
        rows = page.evaluate("[...document.querySelectorAll('table.qms-cards tbody tr, table.qms-task-table tbody tr')]"
                             ".map(tr => getComputedStyle(tr).display)")
        if "table-row" in rows:
            problems.append(f"{name}: list rows are table rows, not cards")
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    raw = sorted({match.group(0) for match in RAW.finditer(text)})
    if raw:
        problems.append(f"{name}: raw codes {raw}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_read_well_in_both_languages_at_phone_and_laptop_width(browser, live_server, world, language):  # noqa: F811
    problems = []
    for username, pages in ROLES.items():
        context, page, errors = log_in(browser, live_server.url, username, language)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for page_name, path in pages.items():
                lang = "zh" if language == "zh-hans" else "en"
                problems += look(page, errors, live_server.url + path.format(**world),
                                 f"{username}-{page_name}-{lang}-{width}")
        context.close()
    assert not problems, "\n".join(problems)


def test_a_task_list_on_a_phone_is_a_stack_of_labelled_cards(browser, live_server, world):  # noqa: F811
    context, page, _errors = log_in(browser, live_server.url, "quality", "en")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server.url}/qms/queue/")
    cell = page.locator(".qms-task-table tbody tr td[data-label]").first
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Subject"'
    assert not page.locator(".qms-task-table thead").is_visible() or \
        page.locator(".qms-task-table thead").bounding_box()["height"] <= 1
    # at a laptop's width the same list is a table, its due date on one line
    page.set_viewport_size({"width": 1366, "height": 900})
    assert cell.evaluate("td => getComputedStyle(td).display") == "table-cell"
    due = page.locator(".qms-task-table tbody tr td:nth-child(3)").first
    assert due.evaluate("td => getComputedStyle(td).whiteSpace") == "nowrap"
    context.close()


@pytest.mark.parametrize("path, table, label", [("/qms/records/", "#records", "Record number"),
                                                 ("/qms/documents/", "#documents", "Document number"),
                                                 ("/qms/flows/orderreview/tasks/", "#flow-tasks", "Step"),
                                                 ("/qms/flows/orderreview/flows/", "#flow-processes", "Summary")])
def test_the_records_list_and_the_document_register_are_labelled_cards_on_a_phone(
        browser, live_server, world, path, table, label):  # noqa: F811
    context, page, _errors = log_in(browser, live_server.url, "quality_mgr", "en")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(live_server.url + path)
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    rows = page.locator(f"{table} tbody tr")
    assert rows.count() >= 1
    assert all(display != "table-row" for display in rows.evaluate_all("trs => trs.map(tr => getComputedStyle(tr).display)"))
    # each card shows the same fields as the table's columns, each with its label
    headers = page.locator(f"{table} thead th").evaluate_all("ths => ths.map(th => th.textContent.trim())")
    labels = rows.first.locator("td[data-label]").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content.replace(/^\"|\"$/g, ''))")
    assert label in labels and labels == headers
    assert page.locator(f"{table} thead").bounding_box()["height"] <= 1
    # a laptop keeps the table
    page.set_viewport_size({"width": 1366, "height": 900})
    assert rows.first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    context.close()


# axe findings that are not ours: {rule id: (selector prefixes of the nodes it flags,)}, each with the vendored
# widget named and why our templates cannot fix it
AXE_NOT_OURS: dict = {}
AXE_PAGES = {"inbox": "/qms/inbox/", "queue": "/qms/queue/", "dashboard": "/qms/dashboard/",
             "archive": "/qms/archive/", "records": "/qms/records/", "record": "{record}", "documents": "/qms/documents/",
             "notifications": "/qms/notifications/", "flows": "/qms/flows/",
             "processes": "/qms/flows/orderreview/flows/",  # a viewflow list, with its paginator
             "board": "/qms/flows/complaint/", "flow_tasks": "/qms/flows/orderreview/tasks/",  # workflows/flow_pages.py
             "disposition": "/qms/evidence/disposition/", "delegations": "/qms/delegations/",
             "stored_files": "/qms/evidence/stored-files/"}
AXE_USERS = {"stored_files": "admin"}  # an administrator's page; the others are the Quality manager's


@pytest.mark.parametrize("page_name", list(AXE_PAGES))
def test_no_accessibility_violations_of_any_impact(browser, live_server, world, page_name):  # noqa: F811
    """axe-core on each main page, every impact (minor and moderate too), in both languages and at both widths."""
    from axe_playwright_python.sync_playwright import Axe

    context, page, _errors = log_in(browser, live_server.url, AXE_USERS.get(page_name, "quality_mgr"), "en")
    found = []
    for language in LANGUAGES:
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + AXE_PAGES[page_name].format(**world))
            page.wait_for_load_state("load")
            for violation in Axe().run(page).response["violations"]:
                excused = AXE_NOT_OURS.get(violation["id"], ())
                nodes = [node["target"] for node in violation["nodes"]
                         if not any(str(target).startswith(prefix) for target in node["target"] for prefix in excused)]
                if nodes:
                    why = next((check["message"] for node in violation["nodes"] for check in node["any"] + node["all"]), "")
                    found.append((language, width, violation["id"], violation["impact"], len(nodes), nodes[:3], why))
    context.close()
    assert not found, "\n".join(map(str, found))


def test_viewflows_list_paginator_speaks_the_users_language(browser, live_server, world):  # noqa: F811
    from django.utils import translation
    from django.utils.translation import gettext

    context, page, _errors = log_in(browser, live_server.url, "quality_mgr", "zh-hans")
    page.goto(f"{live_server.url}/qms/flows/orderreview/flows/")
    page.wait_for_load_state("load")
    summary = " ".join(page.locator(".vf-list__pagination-summary").inner_text().split())
    with translation.override("zh-hans"):  # the catalogue's words, merged or not yet
        expected = gettext("%(start)s–%(end)s of %(total)s") % {"start": 1, "end": 2, "total": 2}
    assert summary == expected, summary
    assert page.locator("nav .vf-list__pagination__container").count() == 1
    context.close()
