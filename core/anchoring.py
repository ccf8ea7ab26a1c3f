"""Writing a checkpoint of the audit chain (docs/AUDIT-ANCHORING.md): verify what the chain gained
since the last checkpoint (core.verification), then sign its head with the organisation's key and
store the checkpoint outside the database (core.checkpoints: the key, the store, the checks).
Audited; a copy may be mailed."""
import base64
import datetime
import fcntl
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from . import audit
from .audit import Problem
from .canonical import canonical_json
from .checkpoints import (
    FORMAT, NO_PRIVATE_KEY, REFUSED, WRITTEN, Checkpoint, CheckpointError, Store, _conf, key_id,
    load_private_key, payload_hash, store_dir,
)
from .i18n import english
from .models import AuditEntry, AuditHead
from .verification import verify_since

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # "written", "unchanged" (nothing new since the last one), "no key", "refused"
    message: str
    checkpoint: Checkpoint = None
    problems: list = field(default_factory=list)


@contextmanager
def _locked(directory):
    """One checkpoint writer at a time per store (numbers and `previous` links stay a chain)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = open(directory / ".lock", "a")  # noqa: SIM115 — closed below
    except OSError as error:
        raise CheckpointError(f"checkpoint store {directory}: {error}")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _snapshot():
    """One consistent view of the chain and the rows (REPEATABLE READ on PostgreSQL when we own the transaction;
    SQLite's IMMEDIATE transaction holds the write lock)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _write_exclusive(path, data):
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, path)  # refuses to replace an existing checkpoint
    finally:
        os.unlink(partial)


def _timestamp(signed_bytes):
    """The optional RFC 3161 hook: QMS_CHECKPOINT_TIMESTAMPER names a callable(bytes) -> JSON-able token (e.g. a
    TSA's response, base64) kept beside the signed payload. A failing hook is logged, not fatal."""
    hook = _conf("CHECKPOINT_TIMESTAMPER")
    if not hook:
        return None
    try:
        return import_string(hook)(signed_bytes)
    except Exception:
        logger.exception("checkpoint timestamper %s failed", hook)
        return None


def _quality_manager_addresses():
    """The active quality managers' addresses (people and roles live above core: asked by field names)."""
    managers = get_user_model().objects.filter(is_active=True, memberships__department="quality",
                                               memberships__role="manager").exclude(email="").distinct()
    return sorted(managers.values_list("email", flat=True))


def _recipients():
    """Who receives a copy of each checkpoint: QMS_CHECKPOINT_MAIL_TO (kept outside the database, so a database
    writer cannot redirect it) and, with QMS_CHECKPOINT_MAIL_QUALITY_MANAGERS, the quality managers."""
    addresses = list(_conf("CHECKPOINT_MAIL_TO", []))
    if _conf("CHECKPOINT_MAIL_QUALITY_MANAGERS", False):
        addresses += _quality_manager_addresses()
    return sorted(set(addresses))


def _both(text, params):


    with translation.override("zh-hans"):
        zh = str(text) % params
    return f"{zh}\n{english(text) % params}"


def _mail_checkpoint(checkpoint, recipients):

    anchored = checkpoint.payload["anchored"]
    params = {"number": checkpoint.number, "seq": checkpoint.seq}
    subject = "[QMS] " + _both(_("Audit chain checkpoint #%(number)s (audit entry #%(seq)s)"), params) \
        .replace("\n", " / ")
    body = "\n".join([
        _both(_("Keep this message: it is a signed copy of the audit chain's state, kept outside the database. "
                "Compare it with the checkpoint store when the audit trail is verified."), {}), "",
        f"checkpoint: #{checkpoint.number} ({checkpoint.path.name})",
        f"created_at: {checkpoint.payload['created_at']}",
        f"audit seq: {checkpoint.seq}",
        f"audit hash: {checkpoint.hash}",
        f"anchored: {anchored['versions']} versions, {anchored['signatures']} signatures, {anchored['files']} files",
        f"digest: {anchored['digest']}",
        f"key id: {checkpoint.payload['key_id']}",
        f"signature: {checkpoint.signature}",
    ])
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=True))


def _refuse(problems, origin):


    recipients = sorted(set(_recipients()) | set(_quality_manager_addresses()))
    with transaction.atomic():
        audit.log(REFUSED, ("system", "audit-checkpoint", "audit checkpoint"),
                  new={"origin": origin, "problems": [str(p) for p in problems[:200]], "alerted": recipients})
    logger.error("audit checkpoint refused: %d problem(s); first: %s", len(problems), problems[0])
    body = "The audit checkpoint was NOT written: {} problem(s) since the last checkpoint:\n\n{}".format(
        len(problems), "\n".join(f"FAIL {p}" for p in problems))
    send_mail("[QMS] Audit checkpoint REFUSED", body, None, recipients or ["root@localhost"], fail_silently=True)
    return Outcome("refused", f"checkpoint refused: {len(problems)} problem(s); first: {problems[0]}",
                   problems=problems)


def make_checkpoint(*, origin):
    """Verify what the chain gained since the last checkpoint and, if clean, sign and store a new checkpoint of
    the audit head (audited as `audit.checkpoint_written`, optionally e-mailed). Returns an Outcome:
    "no key" (warned: nothing is anchored), "unchanged" (nothing but checkpoint entries since the last one),
    "refused" (problems found: audited, the quality managers e-mailed) or "written".
    Raises CheckpointError when the key or the store cannot be used."""
    private = load_private_key()
    if private is None:
        logger.warning("audit checkpoint skipped: %s", NO_PRIVATE_KEY)
        return Outcome("no key", NO_PRIVATE_KEY)
    kid = key_id(private.public_key())
    directory = store_dir()
    with _locked(directory):
        store = Store.load()
        last = store.last
        with _snapshot():
            head = AuditHead.objects.filter(pk=1).first()
            if head is None or not head.last_seq:
                return Outcome("unchanged", "the audit trail is empty: nothing to anchor")
            problems, scan = verify_since(last, upto=head.last_seq, store=store)
            if not AuditEntry.objects.filter(seq=head.last_seq, entry_hash=head.last_hash).exists():
                problems.append(Problem("audit chain", "head", f"head says #{head.last_seq}, but no entry has that "
                                                               f"seq and hash"))
            if problems:
                new_entries = True
            else:
                new_entries = last is None or AuditEntry.objects.filter(
                    seq__gt=last.seq, seq__lte=head.last_seq).exclude(action=WRITTEN).exists()
        if problems:
            return _refuse(problems, origin)
        if not new_entries:
            return Outcome("unchanged", f"nothing new since checkpoint {last.label}", checkpoint=last)
        payload = {
            "format": FORMAT,
            "number": (last.number if last else 0) + 1,
            "created_at": timezone.now().astimezone(datetime.UTC).isoformat(),
            "audit": {"seq": head.last_seq, "hash": head.last_hash},
            "anchored": scan.states[head.last_seq],
            "previous": payload_hash(last.payload) if last else None,
            "origin": origin,
            "key_id": kid,
        }
        signed = canonical_json(payload)
        document = {"payload": payload, "signature": base64.b64encode(private.sign(signed)).decode("ascii")}
        token = _timestamp(signed)
        if token is not None:
            document["timestamp"] = token
        path = directory / f"{payload['number']:08d}.json"
        try:
            _write_exclusive(path, json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode())
        except OSError as error:  # FileExistsError included: a checkpoint is never replaced
            raise CheckpointError(f"checkpoint store {directory}: cannot write {path.name} ({error})")
    checkpoint = Checkpoint(path, payload, document["signature"])
    recipients = _recipients()
    with transaction.atomic():
        audit.log(WRITTEN, ("audit.checkpoint", str(checkpoint.number), path.name),
                  new={"number": checkpoint.number, "seq": checkpoint.seq, "hash": checkpoint.hash,
                       "digest": payload["anchored"]["digest"], "payload_hash": payload_hash(payload),
                       "key_id": kid, "origin": origin, "file": str(path), "mailed": recipients,
                       "timestamped": token is not None})
        if recipients:
            _mail_checkpoint(checkpoint, recipients)
    return Outcome("written", f"checkpoint {checkpoint.label} written: audit entry #{checkpoint.seq} "
                              f"{checkpoint.hash} → {path}", checkpoint=checkpoint)
