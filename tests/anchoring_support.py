"""Fixtures and the intruder of the audit-anchoring tests: a checkpoint key made for each test in its own
temporary folder (never a key in the repository), and the rewrite an intruder with the application's database
credentials can make."""
import json
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import connection

from core.canonical import sha256_hex
from core.models import AuditEntry, AuditHead, RecordVersion, Signature


@pytest.fixture
def checkpoint_key(settings, tmp_path):
    """A fresh Ed25519 key pair and an empty checkpoint store, both under this test's tmp_path."""
    from core.checkpoints import generate_key_pair

    private, public, kid = generate_key_pair(tmp_path / "keys" / "checkpoint.pem")
    store = tmp_path / "checkpoints"
    settings.QMS = {**settings.QMS, "CHECKPOINT_KEY_FILE": str(private), "CHECKPOINT_PUBLIC_KEY_FILE": "",
                    "CHECKPOINT_DIR": str(store), "CHECKPOINT_MAIL_TO": [],
                    "CHECKPOINT_MAIL_QUALITY_MANAGERS": False, "CHECKPOINT_TIMESTAMPER": ""}
    return SimpleNamespace(private=private, public=public, key_id=kid, store=store)


@pytest.fixture
def no_checkpoint_key(settings, tmp_path):
    settings.QMS = {**settings.QMS, "CHECKPOINT_KEY_FILE": "", "CHECKPOINT_PUBLIC_KEY_FILE": "",
                    "CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    return tmp_path / "checkpoints"


@contextmanager
def intruder():
    """Writes behind the application's back, as someone holding its database credentials: the model guards are
    bypassed (queryset.update, raw SQL) and, on PostgreSQL, the append-only triggers are switched off the way
    such a person would (session_replication_role; a role that is not superuser cannot, docs/sql/app-role.sql)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def relink_from(seq):
    """Recompute prev_hash and entry_hash of every audit entry from `seq` on, and the head, as an intruder would
    after changing an entry, so that the chain verifies again."""
    before = AuditEntry.objects.filter(seq__lt=seq).order_by("-seq").first()
    prev = before.entry_hash if before else "0" * 64
    with intruder():
        for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
            entry.prev_hash = prev
            entry.entry_hash = entry.compute_hash()
            AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=entry.prev_hash, entry_hash=entry.entry_hash)
            prev = entry.entry_hash
        AuditHead.objects.filter(pk=1).update(last_hash=prev)


def rewrite_signed_version(version, changes, *, audit_trail=True):
    """Change a signed record version's data and recompute everything that hashes it: its content hash, each
    signature's content hash and signature hash and, with `audit_trail`, the hashes its audit entries recorded
    and every audit entry's link after them. Returns the seq of the first audit entry rewritten (or None)."""
    data = {**version.data, **changes}
    new_hash = sha256_hex(data)
    with intruder() as cursor:
        cursor.execute("UPDATE core_recordversion SET data = %s, content_hash = %s WHERE id = %s",
                       [json.dumps(data, ensure_ascii=False), new_hash, version.pk])
        signatures = {}
        for signature in Signature.objects.filter(record_version_id=version.pk):
            signature.content_hash = new_hash
            signature.record_version = RecordVersion.objects.get(pk=version.pk)
            signatures[str(signature.pk)] = signature.compute_hash()
            Signature.objects.filter(pk=signature.pk).update(content_hash=new_hash,
                                                             signature_hash=signatures[str(signature.pk)])
    if not audit_trail:
        return None
    entries = list(AuditEntry.objects.filter(action="record.version_created", object_id=str(version.pk))) + list(
        AuditEntry.objects.filter(action="esign.signed", object_id__in=list(signatures)))
    with intruder():
        for entry in entries:
            new = dict(entry.new_values, content_hash=new_hash)
            if entry.action == "esign.signed":
                new["signature_hash"] = signatures[entry.object_id]
            AuditEntry.objects.filter(pk=entry.pk).update(new_values=new)
    first = min(entry.seq for entry in entries)
    relink_from(first)
    return first


def fake_timestamper(signed_bytes):
    """A stand-in for an RFC 3161 client (QMS_CHECKPOINT_TIMESTAMPER): no network in the tests."""
    from core.canonical import sha256_hex as digest

    return {"tsa": "test", "sha256": digest(signed_bytes)}
