"""Evidence bundle build figures (issue 15.6), printed, never asserted as timings.
Run:  QMS_BENCH_BUNDLE_RECORDS=10000 bash scripts/test.sh -m benchmark -s tests/test_benchmark_bundle.py"""
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import settle_worker
from test_benchmarks import report

# committed data (transaction=True): a bundle of QMS["BUNDLE_PARALLEL_FROM"] records or more is written by forked
# processes too, which see what is committed (on PostgreSQL; an in-memory SQLite database keeps it to one process)
pytestmark = [pytest.mark.benchmark, pytest.mark.django_db(transaction=True)]


def rss_mb(field):
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MB (Linux)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024


def reset_peak_rss():
    """Start VmHWM again from the present RSS (Linux 4.0+: "5" to clear_refs); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def test_benchmark_evidence_bundle(people, order_data, settings, tmp_path):
    """Issue 15.6: an evidence bundle of QMS_BENCH_BUNDLE_RECORDS records (default 1,000; the issue's
    figure is 10,000): seconds, seconds per 1,000, queries and the worker's peak RSS growth. The records
    are clones of one approved order review (its versions, signatures and rendered files — the clones
    share the stored PDFs, as a restore of many similar records would), made in bulk."""
    import copy
    import gc
    import os
    import resource

    from core.models import Record, RecordFile, RecordVersion, Signature
    from evidence.bundles import _can_fork, build_bundle, bundle_processes
    from forms.pdf import render_version
    from evidence.models import EvidenceBundle
    from evidence_support import approved_order

    size = int(os.environ.get("QMS_BENCH_BUNDLE_RECORDS", "1000"))
    # a directory of its own: a bundle of an earlier run under the same number would be replaced, and replacing a
    # file by rename makes the file system write the new one out at once (ext4's auto_da_alloc), which a new
    # bundle on a site never waits for
    settings.QMS_BUNDLE_DIR = str(tmp_path)
    source = approved_order(people, order_data)
    versions = list(source.versions.order_by("version"))
    files = {v.pk: render_version(v) for v in versions}  # queued on commit in a real site
    signatures = {v.pk: list(v.signatures.all()) for v in versions}
    assert all(len(files[v.pk]) == 2 for v in versions)

    def clones(objects, **changes):
        made = []
        for obj in objects:
            twin = copy.copy(obj)
            twin.pk = twin.id = None
            twin._state = type(obj._state)()
            for name, value in changes.items():
                setattr(twin, name, value)
            made.append(twin)
        return made

    records = Record.objects.bulk_create(
        [clone for i in range(size) for clone in clones([source], number=f"{source.number}-B{i:05d}")])
    new_versions = RecordVersion.objects.bulk_create(
        [clone for record in records for v in versions for clone in clones([v], record=record)])
    by_old = [v.pk for v in versions] * size
    RecordFile.objects.bulk_create(
        [clone for old, new in zip(by_old, new_versions) for clone in clones(files[old], record_version=new)])
    Signature.objects.bulk_create(
        [clone for old, new in zip(by_old, new_versions) for clone in clones(signatures[old], record_version=new)])
    bundle = EvidenceBundle.objects.create(created_by=people["admin"], record_ids=[r.pk for r in records])
    # a worker holds none of the clones made above: let them go (Python's cyclic collector would otherwise walk
    # them again and again while the bundle is built), then measure the build's own peak
    del records, new_versions, by_old
    settle_worker()  # as a worker does when it starts: a full collection, then what it holds is frozen
    rss_before = rss_mb("VmRSS")
    peak_reset = reset_peak_rss()
    try:
        with CaptureQueriesContext(connection) as queries:
            begin = time.perf_counter()
            build_bundle(bundle.pk, fork=True)  # pytest's other threads (if any) hold nothing it needs
            seconds = time.perf_counter() - begin
    finally:
        gc.unfreeze()
    rss_after = rss_mb("VmHWM") if peak_reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bundle.refresh_from_db()
    assert bundle.status == "done"
    os.unlink(bundle.file_path)  # gigabytes pytest would otherwise keep with its last three temporary directories
    processes = bundle_processes(size) if _can_fork(True) else 1
    report(f"Evidence bundle of {size:,} records ({len(versions)} version(s) each, "
           f"2 stored PDFs per version, the PDF/A copied; {processes} process(es), {connection.vendor})", [
        ("build (s)", f"{seconds:.1f}"),
        ("per 1,000 records (s) (target: 10,000 in <= 60 s, i.e. <= 6 s)", f"{seconds * 1000 / size:.2f}"),
        ("queries per record", f"{len(queries) / size:.2f}"),
        ("bundle size (MB)", f"{bundle.size / 2**20:.1f}"),
        ("RSS before the build / peak during it (MB; target: < 300 more)", f"{rss_before:.0f} / {rss_after:.0f}"),
        ("peak RSS of a forked process (MB, the pages it shares with the worker included)",
         f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}" if processes > 1 else "—"),
    ])
