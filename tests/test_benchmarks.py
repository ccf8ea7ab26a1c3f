"""Performance figures, measured in one run and printed (never asserted as timings).
Run:  bash scripts/test.sh -m benchmark -s"""
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.audit import verify_chain
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
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "OK"}, meaning="approved")
    record = order_review_of(process).record
    record.refresh_from_db()
    version = record.get_version()
    cold = timed(lambda: render_pdf_bytes(version), repeat=1)[0]
    warm = timed(lambda: render_pdf_bytes(version), repeat=5)
    archive = timed(lambda: render_pdf_bytes(version, archive=True), repeat=3)
    report("PDF rendering (order review record, bilingual, 5 signatures)", [
        ("first render (s)", f"{cold:.3f}"),
        ("warm render, median of 5 (s)", f"{statistics.median(warm):.3f}"),
        ("PDF/A-3b with JSON attached, median of 3 (s)", f"{statistics.median(archive):.3f}"),
        ("archive / plain ratio", f"{statistics.median(archive) / statistics.median(warm):.2f}"),
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
