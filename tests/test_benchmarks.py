"""Performance figures, measured in one run and printed (never asserted as timings).
Run:  bash scripts/test.sh -m benchmark -s"""
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.audit import verify_chain
from test_browser_journey import CHROMIUM
from forms.pdf import render_pdf_bytes
from p1_driver import act, review_all, start
from procedures.order_review.models import order_review_of

pytestmark = [pytest.mark.benchmark, pytest.mark.django_db]


def timed(func, repeat=5):
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        func()
        samples.append(time.perf_counter() - begin)
    return samples


def report(title, rows):
    print(f"\n== {title}")
    for label, value in rows:
        print(f"   {label:<58} {value}")


def test_benchmark_pdf_rendering(people, order_data):
    """Issue 15.5: the order review record's warm render (one layout, font configuration and
    stylesheet shared across renders in a worker) against Chromium printing the same HTML
    with its page reused, and the plain + PDF/A pair from one layout against two layouts."""
    import weasyprint

    from forms import pdf

    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "OK"}, meaning="approved")
    record = order_review_of(process).record
    record.refresh_from_db()
    version = record.get_version()
    cold = timed(lambda: render_pdf_bytes(version), repeat=1)[0]
    warm = timed(lambda: render_pdf_bytes(version), repeat=9)
    both_once = timed(lambda: [pdf.write_pdf_bytes(document, version, archive=archive)
                               for document in [pdf.render_document(version)] for archive in (False, True)], repeat=5)
    both_twice = timed(lambda: [render_pdf_bytes(version, archive=archive) for archive in (False, True)], repeat=5)

    def as_before():  # a FontConfiguration per render, the stylesheet read through the <link>
        html = pdf.render_html(version)
        weasyprint.HTML(string=html, base_url=pdf.base_url(), url_fetcher=pdf.StaticURLFetcher()) \
            .render(font_config=weasyprint.text.fonts.FontConfiguration()).write_pdf()

    before = timed(as_before, repeat=5)
    # Chromium: the same HTML, the stylesheet inlined (a page set from a string has no base to fetch it from)
    css = pdf.resolve_static(pdf.base_url() + pdf.RECORD_CSS).read_text(encoding="utf-8")
    html = pdf.render_html(version).replace(
        '<link rel="stylesheet" href="/static/pdf/record.css">', f"<style>{css}</style>")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-packages.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:  # after every database call: its event loop owns this thread now
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()

        def chromium():
            page.set_content(html, wait_until="load")
            page.pdf(format="A4", print_background=True, prefer_css_page_size=True)

        chromium()
        chrome = timed(chromium, repeat=9)
        browser.close()
    median = statistics.median
    report("PDF rendering (order review record, bilingual, 5 signatures)", [
        ("first render in this worker (s)", f"{cold:.3f}"),
        ("warm render, median of 9 (s)", f"{median(warm):.3f}"),
        ("warm render as before issue 15 (new fonts, linked CSS), median of 5 (s)", f"{median(before):.3f}"),
        ("Chromium, same HTML, page reused, median of 9 (s)", f"{median(chrome):.3f}"),
        ("Chromium / WeasyPrint warm (target >= 1.4)", f"{median(chrome) / median(warm):.2f}"),
        ("plain + PDF/A from one layout, median of 5 (s)", f"{median(both_once):.3f}"),
        ("plain + PDF/A from two layouts, median of 5 (s)", f"{median(both_twice):.3f}"),
        ("two layouts / one layout", f"{median(both_twice) / median(both_once):.2f}"),
    ])


def test_benchmark_step_completion_and_inbox_growth(people, order_data):
    begin = time.perf_counter()
    processes = [start(people["market"], order_data(number=f"PO-B-{i}")) for i in range(40)]
    start_rate = len(processes) / (time.perf_counter() - begin)
    durations = []
    for process in processes[:20]:
        begin = time.perf_counter()
        act(process, "review_quality", people["quality"], {"verdict": "can_meet"}, meaning="reviewed")
        durations.append(time.perf_counter() - begin)
    client = APIClient()
    client.force_authenticate(people["production"])

    def inbox():
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/tasks/?queue=1")
        return len(queries)

    inbox()  # warm the permission caches
    small_queries = inbox()
    small = statistics.median(timed(inbox, repeat=5))
    more = [start(people["market"], order_data(number=f"PO-C-{i}")) for i in range(160)]
    large_queries = inbox()
    large = statistics.median(timed(inbox, repeat=5))
    report("Workflow", [
        ("P1 starts per second (intake, 4 review tasks, audit)", f"{start_rate:.1f}"),
        ("review completion with signature, median (ms)", f"{statistics.median(durations) * 1000:.1f}"),
        (f"queue API with {len(processes)} processes (ms / queries)", f"{small * 1000:.1f} / {small_queries}"),
        (f"queue API with {len(processes) + len(more)} processes (ms / queries)", f"{large * 1000:.1f} / {large_queries}"),
        ("queue time ratio 200 / 40 processes (rows returned grow 5x)", f"{large / small:.2f}"),
    ])


def test_benchmark_audit_verification(people, order_data):
    for i in range(30):
        process = start(people["market"], order_data(number=f"PO-V-{i}"))
        review_all(process, people)
    from core.models import AuditEntry

    entries = AuditEntry.objects.count()
    seconds = statistics.median(timed(lambda: list(verify_chain()), repeat=3))
    report("Audit chain verification", [
        ("entries", entries),
        ("seconds (median of 3)", f"{seconds:.3f}"),
        ("entries per second", f"{entries / seconds:,.0f}"),
    ])
