"""Issue 15.7: `verify_audit --jobs N` splits the chain and the rows into ranges, one per process, and names exactly
the problems a serial run names, in the same order — a break at a range's edge included."""
import json

import pytest
from django.core.management import call_command

from core import parallel
from core.audit import verify_chain
from core.models import AuditEntry, RecordVersion
from core.verification import check
from p1_driver import review_all, start

from test_integrity import approved, tamper  # noqa: F401  (approved: the fixture)


def test_split_covers_the_span_exactly_once():
    assert parallel.split(0, 10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert parallel.split(5, 7, 4) == [(5, 6), (6, 7)]  # never more ranges than rows
    assert parallel.split(4, 4, 2) == []
    for lo, hi, parts in ((0, 1000, 7), (17, 18, 2), (3, 99, 1)):
        ranges = parallel.split(lo, hi, parts)
        assert ranges[0][0] == lo and ranges[-1][1] == hi
        assert all(a < b for a, b in ranges) and all(x[1] == y[0] for x, y in zip(ranges, ranges[1:], strict=False))


def _problems(jobs, since=None):
    return [str(p) for p in verify_chain(since=since, jobs=jobs)]


@pytest.mark.django_db
def test_ranges_name_the_same_breaks_as_one_pass(approved):
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) > 20
    assert _problems(1) == _problems(4) == []
    # a break on each side of where four ranges meet: an entry deleted at an edge, one altered, one relinked
    edges = [b for _a, b in parallel.split(0, seqs[-1], 4)][:-1]
    tamper("DELETE FROM core_auditentry WHERE seq = %s", [edges[0]])
    tamper("UPDATE core_auditentry SET reason = %s WHERE seq = %s", ["forged", edges[1] + 1])
    tamper("UPDATE core_auditentry SET prev_hash = %s WHERE seq = %s", ["0" * 64, edges[2]])
    serial = _problems(1)
    assert f"audit entry #{edges[0]}: missing (next present is #{edges[0] + 1})" in serial
    assert f"audit entry #{edges[1] + 1}: content was altered (hash mismatch)" in serial
    assert f"audit entry #{edges[2]}: link to the previous entry is broken" in serial
    # the altered entry's successor is still linked to its stored hash, as in one pass
    for jobs in (2, 3, 4, 7, len(seqs) + 5):
        assert _problems(jobs) == serial, jobs
    # from a starting point inside the chain (an incremental run)
    start_entry = AuditEntry.objects.get(seq=3)
    since = (start_entry.seq, start_entry.entry_hash)
    assert _problems(4, since) == _problems(1, since)


@pytest.mark.django_db
def test_the_tail_removed_is_named_in_ranges_too(approved):
    last = AuditEntry.objects.order_by("-seq").first()
    tamper("DELETE FROM core_auditentry WHERE seq = %s", [last.seq])
    assert _problems(3) == _problems(1)
    assert any("entries removed" in p for p in _problems(3))


@pytest.mark.django_db
def test_altered_rows_are_named_by_every_split(approved):
    version = RecordVersion.objects.order_by("pk")[1]
    tamper("UPDATE core_recordversion SET data = %s WHERE id = %s",
           [json.dumps(dict(version.data, conclusion="篡改 forged"), ensure_ascii=False), version.pk])
    serial = [str(p) for p in check(jobs=1)[1]]
    assert any(p.startswith(f"record version {version.record.number} v{version.version}") for p in serial)
    assert [str(p) for p in check(jobs=3)[1]] == serial


@pytest.mark.django_db(transaction=True)
def test_verify_audit_jobs_forks_workers_that_read_the_same_database(people, order_data, capsys, monkeypatch):
    """In forked processes (on a database they can open: PostgreSQL in CI; SQLite's in-memory test database is
    run in ranges in this process instead)."""
    approved = start(people["market"], order_data())
    review_all(approved, people)
    forked = []
    real = parallel.map_ranges

    def spy(func, ranges, jobs):
        forked.append(jobs > 1 and len(ranges) > 1 and parallel.can_fork())
        return real(func, ranges, jobs)

    monkeypatch.setattr(parallel, "map_ranges", spy)
    call_command("verify_audit", "--full", "--jobs", "2", "--no-checkpoint")
    out = capsys.readouterr().out
    assert "OK: every hash and link verifies" in out and "FAIL" not in out
    assert forked and all(forked) == (not parallel.in_memory())
    entry = AuditEntry.objects.order_by("seq")[4]
    tamper("UPDATE core_auditentry SET reason = %s WHERE id = %s", ["forged", entry.pk])
    with pytest.raises(SystemExit):
        call_command("verify_audit", "--full", "--jobs", "2", "--no-checkpoint")
    assert f"FAIL audit entry #{entry.seq}: content was altered" in capsys.readouterr().out
