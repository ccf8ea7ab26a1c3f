"""Performance figures, measured in one run and printed (never asserted as timings).
Run:  bash scripts/test.sh -m benchmark -s"""
import gc
import os
import statistics
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.celery import settle_worker
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
    unfrozen = timed(lambda: render_pdf_bytes(version), repeat=15)  # this test process's heap, as it is

    def as_before():  # a FontConfiguration per render, the stylesheet read through the <link>
        html = pdf.render_html(version)
        weasyprint.HTML(string=html, base_url=pdf.base_url(), url_fetcher=pdf.StaticURLFetcher()) \
            .render(font_config=weasyprint.text.fonts.FontConfiguration()).write_pdf()

    before = timed(as_before, repeat=5)
    settle_worker()  # as a Celery worker does when it starts: what every render shares loaded, the heap frozen
    try:
        warm = timed(lambda: render_pdf_bytes(version), repeat=15)
        both_once = timed(lambda: [pdf.write_pdf_bytes(document, version, archive=archive) for document in
                                   [pdf.render_document(version)] for archive in (False, True)], repeat=5)
        both_twice = timed(lambda: [render_pdf_bytes(version, archive=archive) for archive in (False, True)],
                           repeat=5)
    finally:
        gc.unfreeze()
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
        ("warm render in a settled worker (config.celery), median of 15 (s)", f"{median(warm):.3f}"),
        ("  its 90th percentile (s)", f"{statistics.quantiles(warm, n=10)[-1]:.3f}"),
        ("warm render, the heap not frozen, median of 15 (s)", f"{median(unfrozen):.3f}"),
        ("  its 90th percentile (s)", f"{statistics.quantiles(unfrozen, n=10)[-1]:.3f}"),
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


# --- the audit chain under load (issue 15 item 4; README "Audit chain under load") --------------------------

CLIENTS = int(os.environ.get("QMS_BENCH_CLIENTS", "8"))


def _in_processes(jobs, warm=None):
    """Run each job (a callable returning something picklable) in its own forked process with its own database
    connection (as gunicorn workers would: no shared interpreter lock), all released together. `warm(index)`, when
    given, runs in each process before the release, untimed: its connection's first statements (PostgreSQL loads
    each table's catalog entries once per connection) are then not counted, as in production, whose workers keep
    their connections (CONN_MAX_AGE).
    Returns (wall seconds, [each job's result]); an exception in a job fails the run."""
    import multiprocessing
    import traceback

    from django.db import connections

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(jobs) + 1), context.Queue()
    connections.close_all()  # a child must not share the parent's connection

    def work(index, job):
        try:
            if warm is not None:
                warm(index)
            barrier.wait(timeout=120)
            results.put((index, "ok", job()))
        except BaseException:  # noqa: BLE001 — reported to the test process
            results.put((index, "error", traceback.format_exc()))
        finally:
            connections.close_all()

    children = [context.Process(target=work, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for child in children:
        child.start()
    barrier.wait(timeout=120)
    begin = time.perf_counter()
    collected = {index: (status, value) for index, status, value in (results.get(timeout=900) for _ in jobs)}
    wall = time.perf_counter() - begin
    for child in children:
        child.join(60)
    failures = [value for status, value in collected.values() if status == "error"]
    assert not failures, failures[0]
    return wall, [collected[i][1] for i in range(len(jobs))]


def _throughput(people, order_data, tag, per_client):
    """Starts, then claims, by CLIENTS processes at once: (starts/s, claims/s, start latencies, claim latencies)."""
    from accounts.models import User
    from p1_driver import REVIEW_STEPS, open_task
    from procedures.order_review.flows import OrderReviewFlow
    from workflows import actions

    node = OrderReviewFlow.start

    def order_form(user, number):
        return node.make_form(data=order_data(number=number), api=True, user=user)

    def starter(index):
        def job():
            user, started, took = User.objects.get(username="market"), [], []
            for n in range(per_client):
                form = order_form(user, f"PO-{tag}-{index}-{n}")
                begin = time.perf_counter()
                started.append(actions.start_process(node, actor=user, form=form).pk)
                took.append(time.perf_counter() - begin)
            return started, took
        return job

    def warm_starter(index):
        user = User.objects.get(username="market")
        actions.start_process(node, actor=user, form=order_form(user, f"PO-{tag}-{index}-warm"))

    wall, results = _in_processes([starter(i) for i in range(CLIENTS)], warm=warm_starter)
    starts = CLIENTS * per_client / wall
    latencies = {"start": [t for _, took in results for t in took], "claim": []}

    def reviewers():
        return {d: User.objects.get(pk=people[d].pk) for d in REVIEW_STEPS}

    def claim_reviews(pid, users):
        """Claim the review tasks of `pid`: the seconds each claim took."""
        took = []
        for department, step in REVIEW_STEPS.items():
            task = open_task(pid, step)
            begin = time.perf_counter()
            actions.claim_task(task, actor=users[department])
            took.append(time.perf_counter() - begin)
        return took

    def claimer(pids):
        def job():
            users = reviewers()
            return [seconds for pid in pids for seconds in claim_reviews(pid, users)]
        return job

    market = people["market"]
    warm_pids = [actions.start_process(node, actor=market, form=order_form(market, f"PO-{tag}-warm-claims-{i}")).pk
                 for i in range(CLIENTS)]
    wall, results = _in_processes([claimer(pids) for pids, _ in results],
                                  warm=lambda index: claim_reviews(warm_pids[index], reviewers()))
    claims = CLIENTS * per_client * len(REVIEW_STEPS) / wall
    latencies["claim"] = [t for took in results for t in took]
    return starts, claims, latencies


def _p(samples, q):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, int(q * len(samples)))] * 1000


@pytest.mark.django_db(transaction=True)
def test_benchmark_audit_verification_in_ranges():
    """verify_audit --full over QMS_BENCH_AUDIT_ENTRIES entries (default 300,000), in one process and split over
    2 processes (the cores of the CI machine), and an incremental run over the last 1 %. Needs a database that
    forked processes can open (PostgreSQL)."""
    from core import audit, parallel
    from core.models import AuditEntry

    if parallel.in_memory():
        pytest.skip("forked workers cannot open an in-memory SQLite database: run on PostgreSQL")
    total = int(os.environ.get("QMS_BENCH_AUDIT_ENTRIES", "300000"))
    begin = time.perf_counter()
    for first in range(0, total, 5000):
        with transaction.atomic():
            audit._append([AuditEntry(actor_name="bench", action="bench.entry", object_type="bench", object_id=str(i),
                                      new_values={"i": i, "note": "样本 sample", "fields": {"qty": i % 97}})
                           for i in range(first, min(first + 5000, total))])
    built = time.perf_counter() - begin
    serial = statistics.median(timed(lambda: list(verify_chain()), repeat=3))
    split = statistics.median(timed(lambda: list(verify_chain(jobs=2)), repeat=3))
    tail = AuditEntry.objects.get(seq=total - total // 100)
    incremental = statistics.median(timed(lambda: list(verify_chain(since=(tail.seq, tail.entry_hash))), repeat=3))
    assert list(verify_chain(jobs=2)) == []
    report(f"Audit chain verification at {total:,} entries ({connection.vendor}, {os.cpu_count()} cores)", [
        ("entries appended (s)", f"{built:.1f}"),
        ("full, 1 process (s / entries per s)", f"{serial:.2f} / {total / serial:,.0f}"),
        ("full, --jobs 2 (s / entries per s)", f"{split:.2f} / {total / split:,.0f}"),
        ("speed-up --jobs 2 / 1", f"{serial / split:.2f}x"),
        ("incremental, last 1 % from a checkpoint (s)", f"{incremental:.3f}"),
        ("projected full run at 5 M entries, --jobs 2 (s)", f"{5_000_000 / (total / split):.0f}"),
    ])


@pytest.mark.django_db(transaction=True)
def test_benchmark_audit_chain_under_load(people, order_data, monkeypatch):
    """Starts and claims per second with 8 client processes at once (PostgreSQL: real row locks), with the entries
    of a transaction appended in one batch before the commit (now) and one by one, each locking the head row
    until the commit (before); and the PBKDF2 cost of one signature. Run: -m benchmark -s on PostgreSQL."""
    from django.conf import settings
    from core import audit
    from core.models import AuditEntry

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("8 concurrent clients need PostgreSQL (SQLite serialises every writer)")
    per_client = int(os.environ.get("QMS_BENCH_STARTS_PER_CLIENT", "15"))  # 8 clients: 120 starts, 480 claims
    start(people["market"], order_data(number="PO-WARM"))  # warm the caches of this process
    batched = _throughput(people, order_data, "B", per_client)
    with monkeypatch.context() as patch:  # before: every entry locks the head at once, held until the commit
        patch.setattr(audit._Batch, "add", lambda self, entry: audit._append([entry]))
        single = _throughput(people, order_data, "S", per_client)
    assert list(audit.verify_chain()) == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))

    # the tests hash with MD5 for speed: measure the hasher production uses (Django's default, PBKDF2)
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode("a signing password", hasher.salt())
    check = statistics.median(timed(lambda: hasher.verify("a signing password", encoded), repeat=7))
    rows = []
    for label, (starts, claims, lat) in (("batched before commit", batched), ("one by one (before)", single)):
        rows += [(f"{label}: starts/s, {CLIENTS} clients", f"{starts:.1f}"),
                 (f"{label}: start p50 / p95 (ms)", f"{_p(lat['start'], .5):.0f} / {_p(lat['start'], .95):.0f}"),
                 (f"{label}: claims/s, {CLIENTS} clients", f"{claims:.1f}"),
                 (f"{label}: claim p50 / p95 (ms)", f"{_p(lat['claim'], .5):.0f} / {_p(lat['claim'], .95):.0f}")]
    rows += [(f"password hash per signature ({hasher.algorithm}, {hasher.iterations:,} iterations) (ms)",
              f"{check * 1000:.0f}"),
             ("signatures per second per core, hash alone", f"{1 / check:.1f}"),
             ("load average of the machine during the run (1 min)", f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")]
    report(f"Audit chain under load (PostgreSQL, {CLIENTS} clients x {per_client} starts, 4 claims each)", rows)


# --- stored files that no row names: the whole trail read once for all of them (core.stray_files) --------------

@pytest.mark.django_db(transaction=True)
def test_benchmark_stray_files_whole_trail():
    """Examining stray files against the whole audit trail, a file at a time (two scans of the trail and one of the
    record versions a file: `examine(…, whole_trail=True)`) and all at once (`read_whole_trail`: one scan of each,
    then a lookup by key a file), in the same run: QMS_BENCH_AUDIT_ENTRIES entries (default 1,000,000, made in SQL:
    a quarter of them renderings naming a file and its SHA-256, the rest step entries in Chinese and English) and
    QMS_BENCH_STRAYS files (default 10) that no entry names — what a removal of that many files reads. PostgreSQL."""
    import datetime

    from django.utils import timezone

    from core import stray_files
    from core.models import AuditEntry

    if connection.vendor != "postgresql":
        pytest.skip("the whole trail at a plant's size: run on PostgreSQL")
    total = int(os.environ.get("QMS_BENCH_AUDIT_ENTRIES", "1000000"))
    strays = int(os.environ.get("QMS_BENCH_STRAYS", "10"))
    table = AuditEntry._meta.db_table
    begin = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (seq, timestamp, actor_name, action, object_type, object_id, object_repr,
                                 new_values, reason, prev_hash, entry_hash)
            SELECT n, now() - make_interval(secs => %s - n), 'bench',
                   CASE WHEN n %% 4 = 0 THEN 'record.rendered' ELSE 'task.completed' END, 'bench', n::text, '',
                   CASE WHEN n %% 4 = 0 THEN jsonb_build_object(
                            'file', 'records/2026/OR-2026-' || lpad(n::text, 7, '0') || '-v1_' || substr(md5(n::text), 1, 7)
                                    || '.pdf', 'kind', 'pdf', 'version', 1, 'rendition', 1,
                            'sha256', md5(n::text) || md5((n + 1)::text))
                        ELSE jsonb_build_object('step', 'review_quality', 'note', '评审结论 合格 Review passed',
                            'fields', jsonb_build_object('qty', n %% 97, 'customer', '客户 Customer ' || (n %% 300),
                                                         'product', 'P-' || (n %% 1000)))
                   END,
                   '', repeat('0', 64), repeat('0', 64)
            FROM generate_series(1, %s::int) AS n""", [total, total])
        cursor.execute(f"ANALYZE {table}")
    built = time.perf_counter() - begin
    files = [(f"records/2026/OR-2026-{n:07d}-v2_StRaY{n % 10}.pdf", f"{n:064x}") for n in range(strays)]
    modified = timezone.now() - datetime.timedelta(hours=3)

    def one_by_one():
        return [stray_files.examine(name, sha256, modified, whole_trail=True) for name, sha256 in files]

    def together():
        among = stray_files.read_whole_trail(files)
        return [stray_files.examine(name, sha256, modified, among=among) for name, sha256 in files]

    assert one_by_one() == together() == [(None, {})] * strays
    alone = statistics.median(timed(one_by_one, repeat=3))
    once = statistics.median(timed(together, repeat=3))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")
        size = cursor.fetchone()[0]
    report(f"Stray files against the whole audit trail: {total:,} entries ({size}), {strays} files, {connection.vendor}",
           [("entries made (s)", f"{built:.1f}"),
            ("a file at a time (s, median of 3)", f"{alone:.2f} ({alone / strays:.2f} a file)"),
            ("all at once: one read of the trail (s, median of 3)", f"{once:.2f}"),
            ("ratio", f"{alone / once:.1f}x")])
