"""SIG-2: an evidence bundle (every version's PDF and data, signatures, audit trail
as CSV and JSON, an index, a manifest of SHA-256 signed with the organisation's
Ed25519 key) verifies; one changed byte in one file is named; an edited manifest
fails its signature check — with manage.py verify_bundle and with openssl/sha256sum."""
import csv
import hashlib
import io
import json
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from rest_framework.test import APIClient

from core.models import AuditEntry, RecordFile
from evidence.models import EvidenceBundle

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def module_world(module_people, tmp_path_factory):
    """An approved order review, an auditor and the bundle the auditor requested of it (its versions without a
    stored PDF rendered in the bundle job), made once for the module (about 15 s) in its transaction
    (conftest.module_people)."""
    from conftest import order_payload
    from evidence_support import approved_order, make_auditor

    record, auditor = approved_order(module_people, order_payload), make_auditor(module_people)
    return {"record": record, "auditor": auditor,
            "bundle_zip": download_bundle(auditor, record, tmp_path_factory.mktemp("bundle"))}


@pytest.fixture
def people(module_people, db):
    return module_people


@pytest.fixture
def record(module_world, db):
    module_world["record"].refresh_from_db()
    return module_world["record"]


@pytest.fixture
def auditor(module_world, db):
    return module_world["auditor"]


def verify(path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_bundle", str(path))
        raise SystemExit(0)
    return exit_info.value.code, capsys.readouterr().out


def download_bundle(auditor, record, folder):
    """The auditor requests a bundle of `record` through the API (built on commit); the downloaded ZIP's path in
    `folder`."""
    from django.test import TestCase

    api = APIClient()
    api.force_authenticate(auditor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post("/api/evidence/bundles/", {"search": {"number": record.number}}, format="json")
    assert response.status_code == 202, response.content
    bundle = api.get(f"/api/evidence/bundles/{response.json()['id']}/").json()
    assert bundle["status"] == "done" and bundle["percent"] == 100 and bundle["records"] == 1
    download = api.get(bundle["download"])
    assert download.status_code == 200
    path = folder / "bundle.zip"
    path.write_bytes(b"".join(download.streaming_content))
    return path


@pytest.fixture
def bundle_zip(module_world, db):
    """The module's bundle (a test that changes it works on a copy)."""
    return module_world["bundle_zip"]


def rewrite(src, dst, change):
    """Copy the ZIP, passing each member's bytes through change(name, data)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, change(item.filename, zin.read(item.filename)))


def test_a_bundle_holds_every_version_its_trail_an_index_and_a_signed_manifest(bundle_zip, record):
    with zipfile.ZipFile(bundle_zip) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        base = f"records/{record.number}"
        stored = {(f.record_version.version, f.kind): f
                  for f in RecordFile.objects.filter(record_version__record=record).select_related("record_version")}
        files = json.loads(zf.read(f"{base}/files.json"))
        for v in range(1, record.current_version + 1):
            # one copy of each version's pages: the PDF/A-3b archive copy, byte for byte the stored file
            assert {f"{base}/v{v}.json", f"{base}/v{v}-pdfa.pdf"} <= names and f"{base}/v{v}.pdf" not in names
            pdfa = zf.read(f"{base}/v{v}-pdfa.pdf")
            assert pdfa.startswith(b"%PDF") and hashlib.sha256(pdfa).hexdigest() == stored[v, "pdfa"].sha256
            assert hashlib.sha256(zf.read(f"{base}/v{v}.json")).hexdigest() == \
                record.versions.get(version=v).content_hash
            # both stored files are listed with their hashes, so a plain copy met elsewhere can be matched
            assert [(f["kind"], f["sha256"], f["size"], f["member"], f["problems"]) for f in files
                    if f["version"] == v] == [
                ("pdf", stored[v, "pdf"].sha256, stored[v, "pdf"].size, None, []),
                ("pdfa", stored[v, "pdfa"].sha256, stored[v, "pdfa"].size, f"{base}/v{v}-pdfa.pdf", [])]
        assert {f"{base}/audit.csv", f"{base}/audit.json", f"{base}/signatures.json", f"{base}/files.json",
                "index.csv", "index.html", "README.txt", "SHA256SUMS", "manifest.sig", "signer.pub.pem"} <= names
        assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig", "signer.pub.pem"}
        trail = list(csv.DictReader(io.StringIO(zf.read(f"{base}/audit.csv").decode("utf-8-sig"))))
        assert any(row["action"] == "esign.signed" for row in trail)
        # the same trail as JSON, one entry per line, in chain order: the record's entries and its process's
        entries = json.loads(zf.read(f"{base}/audit.json"))
        built = AuditEntry.objects.filter(action="evidence.bundle_built").earliest("seq")  # the module's bundle
        expected = AuditEntry.objects.filter(Q(record=record) | Q(process_id=record.process_id, record__isnull=True),
                                             seq__lt=built.seq)  # later tests of the module add more
        assert record.process_id and len(entries) > 10
        assert [e["seq"] for e in entries] == list(expected.order_by("seq").values_list("seq", flat=True))
        # the versions' PDFs were rendered by the bundle job itself (module_world): that rendering is in the trail
        assert {e["new"]["kind"] for e in entries if e["action"] == "record.rendered"} == {"pdf", "pdfa"}
        assert [e["seq"] for e in entries] == [int(row["seq"]) for row in trail]
        assert zf.read(f"{base}/audit.json").decode().count("\n") == len(entries) + 2
        index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
        assert [row["number"] for row in index] == [record.number]
        signatures = json.loads(zf.read(f"{base}/signatures.json"))
        assert signatures and all(s["problems"] == [] for s in signatures)


def test_a_bundle_verifies(bundle_zip, capsys):
    code, out = verify(bundle_zip, capsys)
    assert code == 0 and "OK:" in out and "FAIL" not in out


def test_the_recorded_sha256_is_the_file_s_and_a_byte_changed_inside_the_zip_is_named(bundle_zip, record, tmp_path,
                                                                                     capsys):
    bundle = EvidenceBundle.objects.earliest("pk")  # the module's (module_world)
    data = Path(bundle.file_path).read_bytes()
    assert bundle.sha256 == hashlib.sha256(data).hexdigest() and bundle_zip.read_bytes() == data
    with zipfile.ZipFile(bundle_zip) as zf:
        assert zf.testzip() is None  # every member's CRC checks
        target = zf.getinfo(f"records/{record.number}/v1-pdfa.pdf")
    name_length, extra_length = struct.unpack("<HH", data[target.header_offset + 26:target.header_offset + 30])
    offset = target.header_offset + 30 + name_length + extra_length + 500  # 500 bytes into its local data
    damaged = bytearray(data)
    damaged[offset] ^= 1  # in the stored PDF's bytes, as a disk or a hand would change them: its CRC no longer checks
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    code, out = verify(tmp_path / "damaged.zip", capsys)
    assert code == 1 and f"FAIL {target.filename}: damaged in the ZIP" in out and out.count("FAIL ") == 1


def test_one_changed_byte_in_one_file_is_named(bundle_zip, record, tmp_path, capsys):
    target = f"records/{record.number}/v1-pdfa.pdf"

    def flip(name, data):
        return data[:300] + bytes([data[300] ^ 1]) + data[301:] if name == target else data

    rewrite(bundle_zip, tmp_path / "tampered.zip", flip)
    code, out = verify(tmp_path / "tampered.zip", capsys)
    assert code == 1
    assert f"FAIL {target}: SHA-256 does not match the manifest" in out
    assert out.count("FAIL ") == 1 and "problem(s) found" in out


def test_an_edited_manifest_fails_the_signature_check(bundle_zip, tmp_path, capsys):
    rewrite(bundle_zip, tmp_path / "edited.zip",
            lambda name, data: data.replace(b'"organisation": "', b'"organisation": "X') if name == "manifest.json"
            else data)
    code, out = verify(tmp_path / "edited.zip", capsys)
    assert code == 1 and "FAIL manifest.json: the signature does not verify" in out


def test_the_documented_offline_check_with_openssl_and_sha256sum(bundle_zip, record, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle_zip) as zf:
        zf.extractall(folder)
    openssl = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pub.pem", "-rawin", "-in",
               "manifest.json", "-sigfile", "manifest.sig"]
    ok = subprocess.run(openssl, cwd=folder, capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout
    assert subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder).returncode == 0
    (folder / "manifest.json").write_bytes((folder / "manifest.json").read_bytes().replace(b"sha256", b"sha257", 1))
    assert subprocess.run(openssl, cwd=folder, capture_output=True).returncode != 0
    pdf = folder / "records" / record.number / "v1-pdfa.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    failed = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert failed.returncode != 0 and f"records/{record.number}/v1-pdfa.pdf: FAILED" in failed.stdout


def test_bundle_request_progress_and_download_in_the_browser_are_audited(record, auditor,
                                                                        django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/qms/evidence/bundles/new/", {"scope": "selected", "record": [record.pk]})
    bundle = EvidenceBundle.objects.latest("pk")  # after the module's own
    assert response.status_code == 302 and response["Location"] == f"/qms/evidence/bundles/{bundle.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'id="bundle-download"' in page.content and b"100%" in page.content
    download = client.get(f"/qms/evidence/bundles/{bundle.pk}/download/")
    assert download.status_code == 200 and download["X-Content-SHA256"] == bundle.sha256
    actions = list(AuditEntry.objects.filter(object_type="evidence.evidencebundle", object_id=str(bundle.pk))
                   .values_list("action", flat=True))
    assert actions == ["evidence.bundle_requested", "evidence.bundle_built", "evidence.bundle_downloaded"]
    assert AuditEntry.objects.filter(action="auditor.viewed", actor=auditor,
                                     new_values__path=f"/qms/evidence/bundles/{bundle.pk}/download/").exists()


def test_a_bundle_holds_only_records_the_requester_may_see(record, people, django_capture_on_commit_callbacks):
    from evidence_support import make_auditor, other_record_type

    narrow = make_auditor(people, "auditor_narrow", record_types=[other_record_type(record)])
    bundles = EvidenceBundle.objects.count()
    api = APIClient()
    api.force_authenticate(narrow)
    response = api.post("/api/evidence/bundles/", {"records": [record.pk]}, format="json")
    assert response.status_code == 400
    assert EvidenceBundle.objects.count() == bundles


def test_someone_else_s_bundle_is_not_found(bundle_zip, people):
    api = APIClient()
    api.force_authenticate(people["quality"])
    bundle = EvidenceBundle.objects.get()
    assert api.get(f"/api/evidence/bundles/{bundle.pk}/download/").status_code == 404


def test_the_evidence_page_and_the_api_show_the_organisation_s_public_key(auditor, people):
    import hashlib

    from evidence.signing import public_key_pem

    fingerprint = hashlib.sha256(public_key_pem()).hexdigest()
    client = Client()
    client.force_login(auditor)
    page = client.get("/qms/evidence/")
    assert page.status_code == 200 and fingerprint.encode() in page.content
    assert b"disposition-link" not in page.content
    assert client.get("/qms/evidence/public-key.pem").content == public_key_pem()
    manager = Client()
    manager.force_login(people["quality_mgr"])
    assert b"disposition-link" in manager.get("/qms/evidence/").content
    api = APIClient()
    api.force_authenticate(auditor)
    assert api.get("/api/evidence/bundles/public-key/").json()["sha256"] == fingerprint
    outsider = type(auditor).objects.create_user("outsider", password="Outsider-pass-1")
    client.force_login(outsider)
    assert client.get("/qms/evidence/").status_code == 403


def _bundle_of(records, people):
    from evidence.models import EvidenceBundle

    return EvidenceBundle.objects.create(created_by=people["admin"], record_ids=[r.pk for r in records], title="t")


def test_pdfs_are_stored_as_they_are_and_the_rest_deflated(bundle_zip):
    with zipfile.ZipFile(bundle_zip) as zf:
        kinds = {info.filename: info.compress_type for info in zf.infolist()}
    pdfs = [name for name in kinds if name.endswith(".pdf")]
    assert pdfs and all(kinds[name] == zipfile.ZIP_STORED for name in pdfs)
    assert kinds["index.csv"] == zipfile.ZIP_DEFLATED
    assert all(kinds[name] == zipfile.ZIP_DEFLATED for name in kinds if name.endswith("audit.json"))


def test_a_bundle_s_queries_do_not_grow_with_its_records(people, order_data):
    """Versions, signatures, files, tombstones and audit trails come in a constant number of queries per chunk
    of records (evidence.bundles._records); what else grows is the progress shown, at most 95 updates."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evidence.bundles import build_bundle
    from evidence_support import approved_order

    records = [approved_order(people, order_data, number=f"PO-EVQ-{i}") for i in range(4)]

    def queries(selection):
        with CaptureQueriesContext(connection) as captured:
            build_bundle(_bundle_of(selection, people).pk)
        progress = [q for q in captured if q["sql"].startswith("UPDATE") and '"percent"' in q["sql"]
                    and '"status"' not in q["sql"]]
        return len(captured) - len(progress), len(progress)

    (two, two_progress), (four, four_progress) = queries(records[:2]), queries(records)
    assert two == four, (two, four)
    assert (two_progress, four_progress) == (2, 4)  # one per record while each moves the percentage


@pytest.mark.usefixtures("credentials_kept_fresh")  # years pass before the destruction
def test_each_record_of_a_bundle_gets_its_own_trail_its_process_s_and_nothing_else(people, order_data):
    """The trails of a chunk of records are read together (evidence.bundles._attach_audit_rows): each record
    still gets what it had when read alone — its own entries and those of its process that name no record —
    whether it shares its process, has none, or was destroyed."""
    import copy

    import time_machine
    from dateutil.relativedelta import relativedelta

    from core.models import Record
    from evidence import retention
    from evidence.bundles import build_bundle
    from evidence_support import approved_order
    from workflows.demo import DEMO_PASSWORD

    first, second, destroyed = (approved_order(people, order_data, number=f"PO-EVT-{i}") for i in range(3))
    sibling = copy.copy(first)  # a second record of the first one's process (as a complaint has several)
    sibling.pk = sibling.id = None
    sibling._state = type(first._state)()
    sibling.number = f"{first.number}-S"
    sibling.save()
    loose = copy.copy(second)  # a record made outside any process
    loose.pk = loose.id = None
    loose._state = type(second._state)()
    loose.number, loose.process_id = f"{second.number}-L", None
    loose.save()
    with time_machine.travel(destroyed.created_at + relativedelta(years=11), tick=False):
        retention.destroy_record(destroyed, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="over")
    records = [first, second, destroyed, sibling, loose]
    from forms.pdf import render_version

    altered = next(f for f in render_version(second.get_version()) if f.kind == "pdfa")
    with open(altered.file.path, "ab") as stored:  # the stored PDF/A changed after it was rendered and hashed
        stored.write(b"\n")
    bundle = build_bundle(_bundle_of(records, people).pk)
    built = AuditEntry.objects.filter(action="evidence.bundle_built").latest("seq").seq
    trails = {}
    with zipfile.ZipFile(bundle.file_path) as zf:
        for record in Record.objects.filter(pk__in=[r.pk for r in records]):
            alone = AuditEntry.objects.filter(record=record, seq__lt=built)  # the trail as read record by record
            if record.process_id:
                alone = alone | AuditEntry.objects.filter(process_id=record.process_id, record__isnull=True,
                                                          seq__lt=built)
            trails[record.pk] = [e["seq"] for e in json.loads(zf.read(f"records/{record.number}/audit.json"))]
            assert trails[record.pk] == list(alone.order_by("seq").values_list("seq", flat=True)), record.number
        names = set(zf.namelist())
        problems = {(f["version"], f["kind"]): f["problems"]
                    for f in json.loads(zf.read(f"records/{second.number}/files.json"))}
    assert problems[second.current_version, "pdfa"] == [
        "the stored file no longer matches the SHA-256 recorded when it was rendered"]
    assert not any(found for key, found in problems.items() if key != (second.current_version, "pdfa"))
    assert trails[loose.pk] == [] and all(trails[r.pk] for r in records if r is not loose)
    assert set(trails[sibling.pk]) < set(trails[first.pk])  # its process's entries, not the first record's own
    assert f"records/{destroyed.number}/tombstone.json" in names
    assert f"records/{destroyed.number}/files.json" not in names
    assert not any(name.startswith(f"records/{destroyed.number}/v") for name in names)


def test_the_list_of_my_bundles_is_paged_newest_first_with_its_count(people, monkeypatch):
    """Issue 15.2, nothing silently cut: GET /api/evidence/bundles/ stopped at 100 with no sign."""
    from rest_framework.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    mine = [EvidenceBundle.objects.create(created_by=people["quality_mgr"], title=f"审核 audit {n}") for n in range(3)]
    EvidenceBundle.objects.create(created_by=people["quality"], title="someone else's")
    api = APIClient()
    api.force_authenticate(people["quality_mgr"])
    first = api.get("/api/evidence/bundles/").json()
    assert first["count"] == 3 and "page=2" in first["next"] and first["previous"] is None
    assert [b["id"] for b in first["results"]] == [mine[2].pk, mine[1].pk]
    second = api.get(first["next"]).json()
    assert [b["id"] for b in second["results"]] == [mine[0].pk] and second["next"] is None
    assert api.get("/api/evidence/bundles/?page=3").status_code == 404
    # and the evidence page, which stopped at 100 the same way
    from core import paging
    from django.test import Client

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    browser = Client()
    browser.force_login(people["quality_mgr"])
    first = browser.get("/qms/evidence/").content.decode()
    assert 'id="bundles-total">3<' in first and 'href="?page=2#bundles"' in first
    assert [b.pk for b in mine if f'/qms/evidence/bundles/{b.pk}/"' in first] == [mine[1].pk, mine[2].pk]
    second = browser.get("/qms/evidence/?page=2").content.decode()
    assert [b.pk for b in mine if f'/qms/evidence/bundles/{b.pk}/"' in second] == [mine[0].pk]
