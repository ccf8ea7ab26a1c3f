"""Issue 15.6: a large evidence bundle is written in ranges of records — by forked processes where they can see
what the worker sees — and the ranges' members copied, as written, into one ZIP. The bundle is the same
member for member as one written at once, verifies, and reads in zipfile, unzip and Java; a range that fails
fails the bundle and leaves no file behind."""
import shutil
import subprocess
import zipfile

import pytest
from django.db import connection

from evidence import bundles
from evidence.bundles import build_bundle, verify_bundle_file
from evidence.models import EvidenceBundle

#: what differs between two builds of the same records: the bundle's number and time, and what signs them
BUILD_MEMBERS = {"README.txt", "index.html", "manifest.json", "manifest.sig", "SHA256SUMS"}


def _records(people, order_data, count):
    from core.models import Record
    from evidence_support import approved_order

    first = approved_order(people, order_data, number="PO-EVR")
    records = [first]
    for n in range(1, count):  # siblings of the first (the same versions, files and trail): quick to make
        twin = Record.objects.get(pk=first.pk)
        twin.pk = twin.id = None
        twin._state = type(first._state)()
        twin.number = f"{first.number}-{n}"
        twin.save()
        for version in first.versions.order_by("version"):
            files, signatures = list(version.files.all()), list(version.signatures.all())
            version.pk = version.id = None
            version._state = type(first._state)()
            version.record = twin
            version.save()
            for row in files + signatures:
                row.pk = row.id = None
                row._state = type(first._state)()
                row.record_version = version
                row.save()
        records.append(twin)
    return records


def _build(records, people, settings, monkeypatch, ranges, fork=None):
    settings.QMS = {**settings.QMS, "BUNDLE_PROCESSES": ranges, "BUNDLE_PARALLEL_FROM": 2 if ranges > 1 else 10**6}
    bundle = EvidenceBundle.objects.create(created_by=people["admin"], record_ids=[r.pk for r in records])
    return build_bundle(bundle.pk, fork=fork)


def _members(path):
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return [(info.filename, (info.compress_type, info.external_attr), zf.read(info)) for info in zf.infolist()]


def _same_but_the_build(one, other):
    assert [name for name, *_ in one] == [name for name, *_ in other]
    for (name, kind, data), (_, other_kind, other_data) in zip(one, other):
        assert kind == other_kind, name
        if name not in BUILD_MEMBERS:
            assert data == other_data, name


def _readers_agree(path):
    """unzip (installed by scripts/install-system-packages.sh) and, where a JDK is on the machine, Java's
    ZipInputStream (which refuses a stored member with a data descriptor) read it whole: Java's entry count."""
    assert shutil.which("unzip"), "unzip: run scripts/install-system-packages.sh"
    subprocess.run(["unzip", "-tqq", str(path)], check=True)
    if shutil.which("jshell"):
        script = (f'var z = new java.util.zip.ZipInputStream(new java.io.FileInputStream("{path}")); int n = 0;'
                  'for (var e = z.getNextEntry(); e != null; e = z.getNextEntry()) { z.readAllBytes(); n++; }'
                  'System.out.println("entries " + n); /exit\n')
        out = subprocess.run(["jshell", "-q", "-"], input=script, capture_output=True, text=True, timeout=120)
        assert "entries " in out.stdout, out.stdout + out.stderr
        return int(out.stdout.split("entries ")[1].split()[0])


@pytest.mark.django_db
def test_a_bundle_written_in_ranges_is_the_bundle_written_at_once(people, order_data, settings, monkeypatch, tmp_path):
    """In one process here (an in-memory database): three ranges, the second and third copied after the
    first; the same members in the same order, the same bytes, and it verifies."""
    settings.QMS_BUNDLE_DIR = str(tmp_path)
    records = _records(people, order_data, 5)
    at_once = _build(records, people, settings, monkeypatch, 1)
    stale = tmp_path / f"evidence-bundle-{at_once.pk + 1}.part2.json"  # left by a build whose worker was killed
    stale.write_text("{}")
    in_ranges = _build(records, people, settings, monkeypatch, 3)
    assert in_ranges.filename.startswith(f"evidence-bundle-{at_once.pk + 1}.") and not stale.exists()
    assert in_ranges.status == at_once.status == EvidenceBundle.Status.DONE
    assert bundles.bundle_processes(5) == 3
    assert not bundles._can_fork(True)  # an in-memory database: a forked process would find it empty
    kinds = {name: kind for name, kind, _ in _members(in_ranges.file_path)}
    assert kinds["manifest.json"] == kinds["index.csv"] == (zipfile.ZIP_DEFLATED, 0o600 << 16)  # as writestr(name)
    _same_but_the_build(_members(at_once.file_path), _members(in_ranges.file_path))
    problems, manifest = verify_bundle_file(in_ranges.file_path)
    assert problems == [] and manifest["records"] == sorted(r.number for r in records)
    entries = _readers_agree(in_ranges.file_path)
    assert entries in (None, len(_members(in_ranges.file_path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(  # no range left behind
        [at_once.filename, in_ranges.filename])


@pytest.mark.django_db
def test_a_range_that_fails_fails_the_bundle_and_leaves_nothing(people, order_data, settings, monkeypatch,
                                                                 tmp_path):
    """The second range (written in the worker's process here, after the first) fails: the bundle is failed,
    with the reason, and neither the bundle's file nor the range's is left."""
    settings.QMS_BUNDLE_DIR = str(tmp_path)
    records = _records(people, order_data, 3)

    def broken(ids, path, date_time):
        path.write_bytes(b"half a range")
        raise OSError("disk full")

    monkeypatch.setattr(bundles, "_write_range", broken)
    with pytest.raises(OSError, match="disk full"):
        _build(records, people, settings, monkeypatch, 2)
    bundle = EvidenceBundle.objects.latest("pk")
    assert bundle.status == EvidenceBundle.Status.FAILED and "disk full" in bundle.error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a forked process needs a database it can connect to")
@pytest.mark.django_db(transaction=True)
def test_forked_processes_write_the_ranges_of_a_committed_bundle(people, order_data, settings, monkeypatch,
                                                                  tmp_path):
    """On PostgreSQL, outside a transaction (as in the worker), the second and third ranges are written by
    forked processes: the same bundle as one written at once. A process that fails fails the bundle."""
    settings.QMS_BUNDLE_DIR = str(tmp_path)
    records = _records(people, order_data, 5)
    forks = []
    real_fork = bundles.os.fork

    def counted_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(bundles.os, "fork", counted_fork)
    at_once = _build(records, people, settings, monkeypatch, 1, fork=True)
    assert forks == []
    # fork=True: this test process may have other threads (a live server's, under pytest-xdist) holding nothing
    # the copies need; a Celery pool process has one thread and forks without being told
    in_ranges = _build(records, people, settings, monkeypatch, 3, fork=True)
    assert len(forks) == 2 and in_ranges.status == EvidenceBundle.Status.DONE
    _same_but_the_build(_members(at_once.file_path), _members(in_ranges.file_path))
    assert verify_bundle_file(in_ranges.file_path)[0] == []
    _readers_agree(in_ranges.file_path)

    made = {at_once.filename, in_ranges.filename}
    assert {p.name for p in tmp_path.iterdir()} == made

    # another thread in the process (a threaded web server running tasks eagerly): no fork, the same bundle
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        threaded = _build(records, people, settings, monkeypatch, 3)
    finally:
        stop.set()
        other.join()
    assert len(forks) == 2 and threaded.status == EvidenceBundle.Status.DONE
    _same_but_the_build(_members(at_once.file_path), _members(threaded.file_path))
    made.add(threaded.filename)

    def broken(ids, path, date_time):  # runs in the forked processes
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(bundles, "_write_range", broken)
        with pytest.raises(RuntimeError, match="failed"):
            _build(records, people, settings, monkeypatch, 3, fork=True)
    assert EvidenceBundle.objects.latest("pk").status == EvidenceBundle.Status.FAILED
    assert {p.name for p in tmp_path.iterdir()} == made

    # the worker's own range fails while the forked processes write theirs: they are stopped, none is left
    import os

    worker, real_write_part, forks[:] = os.getpid(), bundles._write_part, []

    def failing_in_the_worker(ids, fileobj, date_time, progress=None):
        if os.getpid() == worker:
            raise OSError("no space left on device")
        return real_write_part(ids, fileobj, date_time, progress)

    with monkeypatch.context() as patch:
        patch.setattr(bundles, "_write_part", failing_in_the_worker)
        with pytest.raises(OSError, match="no space left"):
            _build(records, people, settings, monkeypatch, 3, fork=True)
    assert len(forks) == 2
    for pid in forks:  # each was waited for: none is left running, or a zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    assert EvidenceBundle.objects.latest("pk").status == EvidenceBundle.Status.FAILED
    assert {p.name for p in tmp_path.iterdir()} == made


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_celery_pool_process_writes_a_bundle_with_forked_processes(own_workers, people, order_data):
    """A prefork pool process is a daemon, which `multiprocessing` does not let start children; it may fork.
    A real worker (its own, told to write bundles of 2 records or more in 2 ranges) builds the bundle."""
    from core.models import Record
    from evidence.bundles import request_bundle
    from worker import wait_until

    records = _records(people, order_data, 4)
    worker = own_workers.start(QMS_BUNDLE_PROCESSES="2", QMS_BUNDLE_PARALLEL_FROM="2")
    bundle = request_bundle(actor=people["admin"], records=Record.objects.filter(pk__in=[r.pk for r in records]))
    wait_until(lambda: EvidenceBundle.objects.get(pk=bundle.pk).status in ("done", "failed"), timeout=180,
               message=lambda: f"the bundle was not built; worker log:\n{worker.log_tail()}")
    bundle.refresh_from_db()
    assert bundle.status == EvidenceBundle.Status.DONE, bundle.error
    assert f"evidence bundle {bundle.pk}: 4 records in 2 range(s), the others by forked processes" in worker.log()
    problems, manifest = verify_bundle_file(bundle.file_path)
    assert problems == [] and manifest["records"] == sorted(r.number for r in records)
