"""Stored files that no row names (core.stray_files): a render or an upload whose transaction was cut off leaves
its file behind; the sweep finds it, tells it from a file whose row was deleted behind the application (evidence,
never removed), and removes the rest with an audit entry each."""
import dataclasses
import datetime
import hashlib
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone, translation

from anchoring_support import intruder
from core import audit, diffs, records, stray_files
from core.models import AuditEntry, RecordFile, RecordVersion
from forms import pdf
from test_pdf import make_record, order_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
User = get_user_model()
REASON = "渲染进程被终止 Render worker killed during the 02:00 restart"


class CutOff(Exception):
    pass


@pytest.fixture
def version():
    return make_record(order_data())


@pytest.fixture
def admin():
    return User.objects.create_superuser("qa-admin", "qa-admin@example.com", "pw-Quality-2026")


def later(hours=2):
    """A moment past the grace period, so that the files just written count as old enough to look at."""
    return timezone.now() + datetime.timedelta(hours=hours)


def cut_off_render(version, *, then_render=True):
    """Render `version` in a transaction that an outer rollback cuts off after the render's own savepoint
    committed: the rows and their audit entries are gone, the two files stay. Then (`then_render`) render it
    again, as the next delivery of the message does: two more files, their rows and their audit entries."""
    with pytest.raises(CutOff), transaction.atomic():
        files = pdf.render_version(version)
        names = sorted(f.file.name for f in files)
        raise CutOff
    assert not RecordFile.objects.filter(record_version=version).exists()
    if then_render:
        pdf.render_version(version)
    return names


def backdate(media_root, names, minutes=70):
    moment = (timezone.now() - datetime.timedelta(minutes=minutes)).timestamp()
    for name in names:
        os.utime(media_root / name, (moment, moment))


def test_every_upload_folder_and_the_rendered_records_are_swept():
    folders = stray_files.file_fields()
    assert {"records", "attachments", "complaints", "capa", "documents", "requirements"} <= set(folders)
    assert (RecordFile, "file") in folders["records"]


def test_a_render_cut_off_leaves_two_files_that_are_found_and_removed_with_an_audit_entry(
        version, admin, django_capture_on_commit_callbacks):
    names = cut_off_render(version)
    kept = list(RecordFile.objects.filter(record_version=version))
    assert all(default_storage.exists(name) for name in names + [f.file.name for f in kept])

    assert stray_files.find() == []  # just written: may belong to a transaction still running
    strays = stray_files.find(now=later())
    assert [s.name for s in strays] == names  # the committed rendering is named by its rows: not stray
    assert not any(s.evidence for s in strays)
    assert strays[0].sha256 == hashlib.sha256(default_storage.open(names[0]).read()).hexdigest()

    with django_capture_on_commit_callbacks(execute=True):
        for stray in strays:
            stray_files.remove(stray, actor=admin, reason=REASON)
    assert not any(default_storage.exists(name) for name in names)
    assert all(default_storage.exists(f.file.name) for f in kept)
    entries = AuditEntry.objects.filter(action="storage.stray_removed").order_by("seq")
    assert [(e.object_type, e.object_id, e.new_values["file"], e.actor, e.reason) for e in entries] == [
        ("storage.file", s.sha256, s.name, admin, REASON) for s in strays]
    assert stray_files.find(now=later()) == []
    with translation.override("en"):
        assert diffs._what(entries[0]) == (f"removed the stored file {names[0]}, which no record named (left by a "
                                           "write that was cut off)")
    with translation.override("zh-hans"):
        assert diffs._what(entries[0]) == f"删除了无任何记录引用的存储文件 {names[0]}（中断的写入所遗留）"


def test_a_file_whose_row_was_deleted_behind_the_application_is_evidence_and_never_removed(version, admin):
    files = pdf.render_version(version)
    gone = files[0]
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])

    [stray] = stray_files.find(now=later())
    assert stray.name == gone.file.name and stray.evidence
    entry = AuditEntry.objects.get(action="record.rendered", new_values__file=gone.file.name)
    assert (stray.kept, stray.why) == ("named", f"audit entry #{entry.seq} (record.rendered)")
    with pytest.raises(stray_files.Refused, match="kept as evidence"):
        stray_files.remove(stray, actor=admin, reason=REASON)
    assert default_storage.exists(gone.file.name)
    assert not AuditEntry.objects.filter(action="storage.stray_removed").exists()


def test_an_upload_whose_row_is_gone_is_evidence_when_its_record_version_hashed_it(admin):
    content = "客户图纸 customer drawing".encode()
    sha256 = hashlib.sha256(content).hexdigest()
    orphan = default_storage.save("attachments/2026/12/photo.jpg", ContentFile(b"never committed"))
    name = default_storage.save("attachments/2026/12/drawing.pdf", ContentFile(content))
    with transaction.atomic():
        records.create_record("order_review", actor=admin, status="draft",
                              data={"attachments": [{"name": "drawing.pdf", "sha256": sha256}]})

    strays = {s.name: s for s in stray_files.find(now=later())}
    assert set(strays) == {name, orphan}
    assert strays[name].kept == "named" and strays[name].why.startswith("audit entry #")
    assert not strays[orphan].evidence


def test_removal_is_refused_without_a_reason_by_a_non_superuser_and_for_a_file_named_or_changed_since(
        version, admin, django_capture_on_commit_callbacks):
    names = cut_off_render(version)
    first, second = stray_files.find(now=later())
    clerk = User.objects.create_user("clerk", password="pw-Quality-2026")

    with pytest.raises(stray_files.Refused, match="reason"):
        stray_files.remove(first, actor=admin, reason="  ")
    with pytest.raises(stray_files.Refused, match="superuser"):
        stray_files.remove(first, actor=clerk, reason=REASON)

    # a row names the first file now (a transaction that ran long committed after the sweep looked)
    RecordFile.objects.create(record_version=version, kind="pdf", rendition=5, file=first.name,
                              sha256=first.sha256, size=first.size)
    with pytest.raises(stray_files.Refused, match="named by a row now"):
        stray_files.remove(first, actor=admin, reason=REASON)

    # the second was rewritten since it was found
    with open(default_storage.path(second.name), "ab") as handle:
        handle.write(b"%%EOF\n")
    with pytest.raises(stray_files.Refused, match="changed or went"):
        stray_files.remove(second, actor=admin, reason=REASON)

    assert all(default_storage.exists(name) for name in names)
    assert not AuditEntry.objects.filter(action="storage.stray_removed").exists()


def test_the_command_lists_then_removes_and_exits_1_while_any_is_left(
        version, admin, media_root, capsys, django_capture_on_commit_callbacks):
    names = cut_off_render(version)
    backdate(media_root, names)

    with pytest.raises(SystemExit) as exit_:
        call_command("stray_files")
    out = capsys.readouterr().out
    assert exit_.value.code == 1
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("STRAY")] == [
        ["STRAY", name] for name in names]
    assert "2 stored file(s) that no row names: 0 removed, 2 left, 0 kept as evidence" in out

    with pytest.raises(CommandError, match="--actor"):
        call_command("stray_files", "--remove", "--reason", REASON)
    with pytest.raises(CommandError, match="no active superuser"):
        call_command("stray_files", "--remove", "--actor", "nobody", "--reason", REASON)
    with pytest.raises(CommandError, match="at least 1 hour"):
        call_command("stray_files", "--older-than", "0.1")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("stray_files", "--remove", "--actor", admin.username, "--reason", REASON)
    out = capsys.readouterr().out
    assert "2 stored file(s) that no row names: 2 removed, 0 left, 0 kept as evidence" in out
    assert AuditEntry.objects.filter(action="storage.stray_removed").count() == 2
    call_command("stray_files")
    assert "0 stored file(s) that no row names" in capsys.readouterr().out


def test_the_command_names_evidence_and_keeps_it(version, admin, media_root, capsys):
    gone = pdf.render_version(version)[1]
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])
    backdate(media_root, [gone.file.name])

    call_command("stray_files", "--remove", "--actor", admin.username, "--reason", REASON)  # exit 0: none left
    out = capsys.readouterr().out
    assert f"NAMED {gone.file.name}" in out and "(record.rendered)" in out
    assert "1 stored file(s) that no row names: 0 removed, 0 left, 1 kept as evidence" in out
    assert default_storage.exists(gone.file.name)


def test_a_stray_file_whose_removal_did_not_delete_it_is_found_again_not_taken_for_evidence(version, admin):
    cut_off_render(version)
    strays = stray_files.find(now=later())
    for stray in strays:  # the entries commit; the delete after the commit does not happen (not run here)
        stray_files.remove(stray, actor=admin, reason=REASON)
    again = stray_files.find(now=later())
    assert [(s.name, s.evidence) for s in again] == [(s.name, False) for s in strays]


def test_the_nightly_verification_counts_the_stray_files_and_fails_on_a_deleted_row(version, media_root, people):
    from django.core import mail

    from evidence.tasks import nightly_verification

    names = cut_off_render(version)
    backdate(media_root, names)
    nightly_verification.delay()
    entry = AuditEntry.objects.filter(action__startswith="verification.").latest("seq")
    assert entry.new_values["stray_files"] == 2
    assert not any("stored file" in problem for problem in entry.new_values["problems"])

    gone = pdf.render_version(make_record(order_data("OR-2026-0002"), number="OR-2026-0002"))[0]
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])
    backdate(media_root, [gone.file.name])
    rendered = AuditEntry.objects.get(action="record.rendered", object_id=str(gone.pk))
    nightly_verification.delay()
    entry = AuditEntry.objects.filter(action="verification.failed").latest("seq")
    assert entry.new_values["stray_files"] == 2  # the file of the deleted row is evidence, not stray
    assert entry.new_values["stray_files_kept"] == [
        f"NAMED {gone.file.name}: audit entry #{rendered.seq} (record.rendered)"]
    assert any("missing (deleted)" in problem for problem in entry.new_values["problems"])
    body = mail.outbox[-1].body
    assert "left by a write that was cut off: 2" in body and f"NAMED {gone.file.name}" in body

    nightly_verification.delay()  # its own entries name the kept file: they account for nothing
    entry = AuditEntry.objects.filter(action="verification.failed").latest("seq")
    assert entry.new_values["stray_files_kept"] == [
        f"NAMED {gone.file.name}: audit entry #{rendered.seq} (record.rendered)"]


def test_a_file_with_no_audit_entry_near_its_writing_is_kept_however_the_trail_goes_on(
        version, admin, media_root, capsys, django_capture_on_commit_callbacks):
    """The database restored from a dump older than the storage: the files written since are the only trace of
    what the lost rows held, and the trail holds nothing from their time. They are kept, also once new entries
    follow (a removal's own entry, the next record)."""
    names = cut_off_render(version, then_render=False)
    backdate(media_root, names, minutes=5 * 60)  # the trail's entries are all from now
    strays = stray_files.find()
    assert [(s.name, s.kept) for s in strays] == [(name, "quiet") for name in names]
    assert strays[0].why == ("the audit trail holds no entry in the 2 hours after it was written: the database "
                             "may be older than the storage")
    with pytest.raises(stray_files.Refused, match="kept as evidence") as refused:
        stray_files.remove(strays[0], actor=admin, reason=REASON)
    assert refused.value.evidence

    make_record(order_data("OR-2026-0002"), number="OR-2026-0002")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stray_files", "--remove", "--actor", admin.username, "--reason", REASON)
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("QUIET")] == [
        ["QUIET", name] for name in names]
    assert "0 removed, 0 left, 2 kept as evidence" in out
    assert all(default_storage.exists(name) for name in names)


def test_a_removal_reads_the_whole_trail_and_the_record_versions(version, admin, media_root):
    """A file whose time changed (copied without its times) is no longer near the entry naming it; the removal
    finds the entry all the same, and an upload's SHA-256 in a record version that no entry lists."""
    gone = pdf.render_version(version)[0]
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])
    content = "客户图纸 customer drawing".encode()
    upload = default_storage.save("attachments/2026/12/图纸.pdf", ContentFile(content))
    RecordVersion.objects.create(record=version.record, version=9, data={"drawing": hashlib.sha256(content)
                                 .hexdigest()}, content_hash="0" * 64, created_by=admin)
    backdate(media_root, [gone.file.name, upload], minutes=5 * 60)
    strays = {s.name: s for s in stray_files.find()}
    assert {name: s.kept for name, s in strays.items()} == {gone.file.name: "quiet", upload: "quiet"}

    entry = AuditEntry.objects.get(action="record.rendered", object_id=str(gone.pk))
    as_if_listed_near = dataclasses.replace(strays[gone.file.name], kept=None, detail={})
    with pytest.raises(stray_files.Refused, match=rf"named: audit entry #{entry.seq} \(record.rendered\)"):
        stray_files.remove(as_if_listed_near, actor=admin, reason=REASON)
    as_if_listed_near = dataclasses.replace(strays[upload], kept=None, detail={})
    with pytest.raises(stray_files.Refused, match=r"named: record version \d+ \(v9 of record"):
        stray_files.remove(as_if_listed_near, actor=admin, reason=REASON)
    assert default_storage.exists(gone.file.name) and default_storage.exists(upload)


def test_a_file_removed_while_the_folder_is_read_is_passed_over(version, monkeypatch):
    names = cut_off_render(version)
    modified_time = type(default_storage._wrapped).get_modified_time

    def removed_meanwhile(storage, name):
        if name == names[0]:
            storage.delete(name)
        return modified_time(storage, name)

    monkeypatch.setattr(type(default_storage._wrapped), "get_modified_time", removed_meanwhile)
    assert [s.name for s in stray_files.find(now=later())] == names[1:]


def test_a_byte_for_byte_copy_of_a_kept_file_is_stray_not_evidence(version):
    """A render cut off and done again may write the same bytes under another name: the kept file's audit entry
    names those bytes' SHA-256, but its row holds them, so the copy is no trace of a deleted row."""
    kept = pdf.render_version(version)[0]
    copy = default_storage.save("records/2026/copy-of-a-kept-file.pdf", ContentFile(kept.file.read()))
    make_record(order_data("OR-2026-0002"), number="OR-2026-0002")  # the trail goes on after the copy
    [stray] = stray_files.find(now=later())
    assert stray.name == copy and stray.sha256 == kept.sha256 and not stray.evidence


def test_a_file_written_just_after_the_trail_s_last_entry_is_quiet(version):
    """A dump taken a minute after the last entry, the file written between the two: the entries just before it
    do not account for it."""
    names = cut_off_render(version, then_render=False)  # make_record's entries come just before the files
    assert [(s.name, s.kept) for s in stray_files.find(now=later())] == [(name, "quiet") for name in names]


def test_the_listing_reads_the_whole_trail_for_a_file_the_entries_near_it_do_not_name(version, admin):
    """The entry naming a file can be far from the file's time (storage copied without its times); the listing
    then says what a removal would: kept."""
    gone = pdf.render_version(version)[0]
    entry = AuditEntry.objects.get(action="record.rendered", object_id=str(gone.pk))
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET timestamp = %s WHERE id = %s",
                       [timezone.now() - datetime.timedelta(hours=10), entry.pk])
    make_record(order_data("OR-2026-0002"), number="OR-2026-0002")  # the trail goes on near the file's time
    [stray] = stray_files.find(now=later())
    assert (stray.name, stray.kept, stray.why) == (gone.file.name, "named", f"audit entry #{entry.seq} "
                                                                            "(record.rendered)")


def test_what_counts_as_naming_a_file(version, admin):
    """By its name in any script (SQLite stores JSON with non-ASCII escaped); a report on the storage (a removal,
    the nightly verification) names nothing; a SHA-256 is a copy's only while the record naming it stores it."""
    reported = default_storage.save("attachments/2026/12/reported.pdf", ContentFile(b"reported only"))
    chinese = default_storage.save("attachments/2026/12/客户图纸.pdf", ContentFile(b"named in Chinese"))
    kept = pdf.render_version(version)[0]
    other = make_record(order_data("OR-2026-0002"), number="OR-2026-0002")
    copy = default_storage.save("records/2026/copy-named-by-another-record.pdf", ContentFile(kept.file.read()))
    with transaction.atomic():
        audit.log("verification.passed", ("system", "verify_audit", "nightly verification"),
                  new={"stray_files_kept": [f"NAMED {reported}"]})
        audit.log("order.attachment_added", other.record, actor=admin, record=other.record,
                  new={"file": chinese})
        audit.log("record.downloaded", other.record, actor=admin, record=other.record,
                  new={"sha256": kept.sha256})
    found = {s.name: (s.kept, s.why) for s in stray_files.find(now=later())}
    entries = {e.action: e.seq for e in AuditEntry.objects.filter(
        action__in=["order.attachment_added", "record.downloaded"])}
    assert found == {
        reported: (None, ""),
        chinese: ("named", f"audit entry #{entries['order.attachment_added']} (order.attachment_added)"),
        copy: ("named", f"audit entry #{entries['record.downloaded']} (record.downloaded)"),
    }


def test_one_read_of_the_whole_trail_for_many_files_answers_as_reading_it_for_each(version, admin):
    """`read_whole_trail` reads the trail once for all the files the entries near them do not account for (on
    PostgreSQL one ILIKE ANY a column); `examine(…, among=…)` then answers for each file what reading the whole trail
    for it alone answers: named by an entry (by name, also in old values; by SHA-256), held by a record version, or
    not named — underscores, Chinese and a percent sign in the names taken literally."""
    cut = cut_off_render(version)  # byte-identical copies of the committed rendering: not named
    other = make_record(order_data("OR-2026-0002"), number="OR-2026-0002")
    pdf.render_version(other)
    gone = RecordFile.objects.filter(record_version=other).first()  # its row deleted behind the application
    with intruder() as cursor:
        cursor.execute(f"DELETE FROM {RecordFile._meta.db_table} WHERE id = %s", [gone.pk])
    held = "客户图纸 drawing".encode()
    upload = default_storage.save("attachments/2026/12/图纸_B0412.pdf", ContentFile(held))
    RecordVersion.objects.create(record=version.record, version=9, content_hash="0" * 64, created_by=admin,
                                 data={"drawing": hashlib.sha256(held).hexdigest()})
    renamed = default_storage.save("attachments/2026/12/旧名_1.pdf", ContentFile(b"renamed"))
    with transaction.atomic():  # a name only an entry's old values hold
        audit.log("record.version_created", ("x", "1", "x"), actor=admin, old={"file": renamed}, new={"file": "x"})
    orphans = [default_storage.save(name, ContentFile(content)) for name, content in (
        ("attachments/2026/12/照片_100%.jpg", b"never committed"), ("attachments/2026/12/photo_1.jpg", b"cut off"))]
    lookalike = orphans[1].replace("_1", "x1")  # "_" is a LIKE wildcard: only the literal name may match
    with transaction.atomic():
        audit.log("record.rendered", ("x", "2", "x"), actor=admin, new={"file": lookalike})

    modified = timezone.now() - datetime.timedelta(minutes=30)
    files = [(name, hashlib.sha256(default_storage.open(name).read()).hexdigest())
             for name in [*cut, gone.file.name, upload, renamed, *orphans]]
    among = stray_files.read_whole_trail(files)
    one_by_one = {name: stray_files.examine(name, sha, modified, whole_trail=True) for name, sha in files}
    together = {name: stray_files.examine(name, sha, modified, among=among) for name, sha in files}
    assert together == one_by_one
    assert {name: kept for name, (kept, _detail) in together.items()} == {
        cut[0]: None, cut[1]: None, gone.file.name: "named", upload: "named", renamed: "named", orphans[0]: None,
        orphans[1]: None}
    assert "version_id" in together[upload][1] and together[renamed][1]["action"] == "record.version_created"


def test_listing_reads_the_whole_trail_once_however_many_files_the_entries_near_them_leave(
        version, admin, media_root, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    names = [default_storage.save(f"attachments/2026/12/cut_{n}.jpg", ContentFile(f"cut off {n}".encode()))
             for n in range(6)]
    backdate(media_root, names)
    with CaptureQueriesContext(connection) as queries:
        strays = stray_files.find()
    assert [(s.name, s.kept) for s in strays] == [(name, None) for name in sorted(names)]
    audit_table, versions_table = AuditEntry._meta.db_table, RecordVersion._meta.db_table
    whole = [q["sql"] for q in queries if f'FROM "{audit_table}"' in q["sql"] and "timestamp" not in q["sql"]
             and '"seq" IN' not in q["sql"]]
    versions = [q["sql"] for q in queries if f'FROM "{versions_table}"' in q["sql"] and '"id" IN' not in q["sql"]
                and "MAX(" not in q["sql"]]  # (the newest version's key: one probe of the primary key)
    assert (len(whole), len(versions)) == (1, 1), whole + versions  # (reading it a file at a time: 12 and 6)


def test_a_removal_sees_what_named_a_file_after_the_trail_was_read(version, admin, media_root, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    """The whole trail is read once, outside any lock; each chunk of removals then locks the audit head and reads
    what committed since (the newest entries, and the record versions of the records they name): an entry or a
    record version naming a file that commits in between keeps the file."""
    names = [default_storage.save(f"attachments/2026/12/cut_{n}.jpg", ContentFile(f"cut off {n}".encode()))
             for n in range(3)]
    backdate(media_root, names)
    strays = {s.name: s for s in stray_files.find()}
    assert not any(s.evidence for s in strays.values())
    read = stray_files.read_whole_trail

    def read_then_someone_names_two(files):
        among = read(files)
        with transaction.atomic():  # committed after the read: an entry naming one by name ...
            audit.log("record.rendered", ("x", "1", "x"), actor=admin, new={"file": names[0]})
            # ... and a record version holding another's bytes, written with its record's entry
            RecordVersion.objects.create(record=version.record, version=7, content_hash="0" * 64, created_by=admin,
                                         data={"photo": strays[names[1]].sha256})
            audit.log("record.version_created", ("x", "2", "x"), actor=admin, record=version.record)
        # (a version not yet committed at the read may have a lower key than the newest then: only its entry finds it)
        return dataclasses.replace(among, upto_version=10**12)

    monkeypatch.setattr(stray_files, "read_whole_trail", read_then_someone_names_two)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = {stray.name: outcome for stray, outcome in stray_files.remove_many(
            [strays[name] for name in names], actor=admin, reason=REASON)}
    assert outcomes[names[0]].detail["action"] == "record.rendered"
    assert outcomes[names[1]].detail["version"] == 7
    assert isinstance(outcomes[names[2]], AuditEntry)
    assert [default_storage.exists(name) for name in names] == [True, True, False]


def test_a_file_that_cannot_be_read_or_deleted_is_refused_or_left_and_the_others_go(
        version, admin, media_root, monkeypatch, caplog, django_capture_on_commit_callbacks):
    names = [default_storage.save(f"attachments/2026/12/cut_{n}.jpg", ContentFile(f"cut off {n}".encode()))
             for n in range(3)]
    backdate(media_root, names)
    strays = stray_files.find()
    digest, delete = stray_files._sha256, type(default_storage._wrapped).delete

    def unreadable(storage, name):
        if name == names[0]:
            raise PermissionError(13, "Permission denied", name)
        return digest(storage, name)

    def undeletable(storage, name):
        if name == names[1]:
            raise PermissionError(13, "Permission denied", name)
        return delete(storage, name)

    monkeypatch.setattr(stray_files, "_sha256", unreadable)
    monkeypatch.setattr(type(default_storage._wrapped), "delete", undeletable)
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = stray_files.remove_many(strays, actor=admin, reason=REASON)
    assert [getattr(outcome, "code", "removed") for _stray, outcome in outcomes] == ["unreadable", "removed",
                                                                                    "removed"]
    assert [default_storage.exists(name) for name in names] == [True, True, False]
    assert f"{names[1]}: its removal was recorded but the file could not be deleted" in caplog.text
    monkeypatch.undo()
    assert [s.name for s in stray_files.find()] == names[:2]  # listed again


def test_a_file_removed_by_another_removal_meanwhile_is_refused_and_an_error_refuses_one_file_only(
        version, admin, media_root, monkeypatch, caplog):
    names = [default_storage.save(f"attachments/2026/12/cut_{n}.jpg", ContentFile(f"cut off {n}".encode()))
             for n in range(3)]
    backdate(media_root, names)
    strays = stray_files.find()
    read = stray_files.read_whole_trail

    def read_then_another_removal(files):
        among = read(files)
        monkeypatch.setattr(stray_files, "read_whole_trail", read)
        stray_files.remove(strays[0], actor=admin, reason="the other administrator")  # its delete not yet run
        return among

    still_named = stray_files._still_named

    def broken(name):
        if name == names[1]:
            raise RuntimeError("the database went away")
        return still_named(name)

    monkeypatch.setattr(stray_files, "read_whole_trail", read_then_another_removal)
    monkeypatch.setattr(stray_files, "_still_named", broken)
    outcomes = stray_files.remove_many(strays, actor=admin, reason=REASON)
    assert [getattr(outcome, "code", "removed") for _stray, outcome in outcomes] == ["removed", "error", "removed"]
    assert "stored file attachments/2026/12/cut_1.jpg could not be removed" in caplog.text
    assert [e.reason for e in AuditEntry.objects.filter(action="storage.stray_removed").order_by("seq")] == [
        "the other administrator", REASON]
    with pytest.raises(RuntimeError, match="outside audit.atomic"), audit.atomic():
        stray_files.remove_many(strays[1:2], actor=admin, reason=REASON)
