"""Anchoring the audit chain outside the database (docs/AUDIT-ANCHORING.md).

The hash chain proves that nothing was altered only against someone who cannot write
the database: with the application's database credentials one can rewrite a signed
record version, recompute its content hash, its signature hash and every audit entry
after it, and the chain verifies again. A *checkpoint* fixes the chain at one moment
with a key the database does not hold:

    payload = {number, created_at, audit: {seq, hash}, anchored: {versions, signatures, files, digest},
               previous (SHA-256 of the previous checkpoint's payload), origin, key_id}

signed with the organisation's Ed25519 private key (a file named by
QMS_CHECKPOINT_KEY_FILE, never in the database or the repository) and written as one
JSON file per checkpoint into an append-only store (QMS_CHECKPOINT_DIR), optionally
e-mailed to the quality managers. `audit.hash` fixes every audit entry up to `seq`;
since the audit entries that created record versions, signatures and rendered files
record their hashes, and verification compares each row with its entry
(`AnchorScan`), it fixes those rows too. `anchored.digest` fixes them independently
of the audit entries' payloads: a running SHA-256 over the stored hashes of every row
created by an entry up to `seq`, in audit order (audit order, not row ids: a row
inserted by a transaction that commits after the checkpoint can have a lower id).

A checkpoint is written only after the part of the chain it adds verifies (the entries
since the previous checkpoint, the rows they created, and the digest of everything the
previous checkpoint anchored): signing does not launder a rewrite.
"""
import base64
import datetime
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from .audit import Problem
from .canonical import canonical_json, sha256_hex
from .models import AuditEntry, RecordFile, RecordVersion, Signature

logger = logging.getLogger(__name__)

FORMAT = "qms-checkpoint/1"
WRITTEN = "audit.checkpoint_written"
REFUSED = "audit.checkpoint_refused"
# The audit actions that create the rows a rewrite of a signed record would change.
ANCHORED_ACTIONS = {"record.version_created": "version", "esign.signed": "signature", "record.rendered": "file"}
NO_KEY = ("no checkpoint key configured (QMS_CHECKPOINT_KEY_FILE, or QMS_CHECKPOINT_PUBLIC_KEY_FILE to verify "
          "only): checkpoints are not written and the audit chain is not anchored outside the database")
NO_PRIVATE_KEY = ("no private checkpoint key configured (QMS_CHECKPOINT_KEY_FILE): checkpoint skipped, the audit "
                  "chain is not anchored beyond the last checkpoint")


class CheckpointError(RuntimeError):
    """The checkpoint key or store is misconfigured."""


def _conf(name, default=""):
    return settings.QMS.get(name) or default


# --- keys ----------------------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key():
    """The private key of QMS_CHECKPOINT_KEY_FILE, or None when none is configured."""
    path = _conf("CHECKPOINT_KEY_FILE")
    if not path:
        return None
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise CheckpointError(f"QMS_CHECKPOINT_KEY_FILE {path}: cannot read an Ed25519 private key ({error})")
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"QMS_CHECKPOINT_KEY_FILE {path}: not an Ed25519 private key")
    return key


def load_public_keys():
    """{key id: public key}: every PEM block of QMS_CHECKPOINT_PUBLIC_KEY_FILE (old keys stay there after a
    rotation, so older checkpoints keep verifying) plus the public half of the private key."""
    keys = {}
    path = _conf("CHECKPOINT_PUBLIC_KEY_FILE")
    if path:
        try:
            text = Path(path).read_text("ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointError(f"QMS_CHECKPOINT_PUBLIC_KEY_FILE {path}: cannot read it ({error})")
        end = "-----END PUBLIC KEY-----"
        for block in text.split(end)[:-1]:
            try:
                key = serialization.load_pem_public_key((block.strip() + "\n" + end + "\n").encode("ascii"))
            except ValueError as error:
                raise CheckpointError(f"QMS_CHECKPOINT_PUBLIC_KEY_FILE {path}: not a PEM public key ({error})")
            if not isinstance(key, Ed25519PublicKey):
                raise CheckpointError(f"QMS_CHECKPOINT_PUBLIC_KEY_FILE {path}: not an Ed25519 public key")
            keys[key_id(key)] = key
    private = load_private_key()
    if private is not None:
        keys[key_id(private.public_key())] = private.public_key()
    return keys


def generate_key_pair(private_path):
    """Write a new Ed25519 key pair: the private key (mode 0600, refused if the file exists) and the public key
    beside it (`<name>.pub.pem`). Returns (private path, public path, key id)."""
    private_path = Path(private_path).expanduser().resolve()
    public_path = private_path.with_name(private_path.name.removesuffix(".pem") + ".pub.pem")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(public_pem(key.public_key()))
    return private_path, public_path, key_id(key.public_key())


# --- the store -----------------------------------------------------------------------------------------------


def store_dir():
    return Path(_conf("CHECKPOINT_DIR", Path(settings.VAR_DIR) / "checkpoints"))


def payload_hash(payload):
    return sha256_hex(canonical_json(payload))


@dataclass
class Checkpoint:
    path: Path
    payload: dict
    signature: str

    @property
    def number(self):
        return self.payload["number"]

    @property
    def seq(self):
        return self.payload["audit"]["seq"]

    @property
    def hash(self):
        return self.payload["audit"]["hash"]

    @property
    def label(self):
        return f"#{self.number} ({self.path.name})"

    def __str__(self):
        return f"checkpoint {self.label}: audit entry #{self.seq} {self.hash[:16]}…, {self.payload['created_at']}"


# a clock stepped back by NTP between two checkpoints is not a forgery
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)


def _when(checkpoint):
    try:
        return datetime.datetime.fromisoformat(checkpoint.payload["created_at"])
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _problem(ident, detail):
    return Problem("checkpoint", ident, detail)


def _parse(path, public_keys):
    """(Checkpoint, None) or (None, Problem)."""
    try:
        document = json.loads(path.read_text("utf-8"))
        payload, signature = document["payload"], document["signature"]
        number, seq, entry_hash = payload["number"], payload["audit"]["seq"], payload["audit"]["hash"]
        if payload["format"] != FORMAT or not isinstance(number, int) or not isinstance(seq, int) \
                or not isinstance(entry_hash, str) or not isinstance(payload["anchored"]["digest"], str) \
                or not isinstance(payload["created_at"], str) or not isinstance(payload["key_id"], str):
            raise ValueError("not a qms checkpoint")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, _problem(path.name, f"unreadable, not a checkpoint ({type(error).__name__}: {error})")
    checkpoint = Checkpoint(path, payload, signature)
    if path.name != f"{number:08d}.json":
        return None, _problem(checkpoint.label, "its file name does not match its number (renamed or copied)")
    key = public_keys.get(payload["key_id"])
    if key is None:
        return None, _problem(checkpoint.label, f"signed with an unknown key {payload['key_id']}: forged, or its "
                                                f"public key is not in QMS_CHECKPOINT_PUBLIC_KEY_FILE")
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical_json(payload))
    except (InvalidSignature, ValueError, TypeError):
        return None, _problem(checkpoint.label, "the signature does not verify: forged or altered")
    return checkpoint, None


@dataclass
class Store:
    """The checkpoints of the store whose signature verifies, in order, and the problems of the store itself
    (invalid files, gaps, a broken `previous` link, seq or time going backwards)."""

    directory: Path
    checkpoints: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    files: int = 0
    public_keys: dict = field(default_factory=dict)

    @property
    def last(self):
        return self.checkpoints[-1] if self.checkpoints else None

    @classmethod
    def load(cls, public_keys=None):
        public_keys = load_public_keys() if public_keys is None else public_keys
        store = cls(store_dir(), public_keys=public_keys)
        paths = sorted(store.directory.glob("*.json")) if store.directory.is_dir() else []
        store.files = len(paths)
        if not public_keys:
            return store
        numbers = set()
        for path in paths:
            checkpoint, problem = _parse(path, public_keys)
            if problem is not None:
                store.problems.append(problem)
            else:
                store.checkpoints.append(checkpoint)
            if path.stem.isdigit():
                numbers.add(int(path.stem))
        store.checkpoints.sort(key=lambda c: c.number)
        expected = 1
        for number in sorted(numbers):
            if number > expected:
                missing = f"#{expected}" if number == expected + 1 else f"#{expected}–#{number - 1}"
                store.problems.append(_problem(missing, f"missing from the store {store.directory} (removed)"))
            expected = number + 1
        for before, after in zip(store.checkpoints, store.checkpoints[1:]):
            if after.number == before.number + 1 and after.payload.get("previous") != payload_hash(before.payload):
                store.problems.append(_problem(after.label, f"does not follow checkpoint {before.label} (its "
                                                            f"'previous' hash differs): the store was rewritten"))
            if after.seq < before.seq:
                store.problems.append(_problem(after.label, f"anchors audit entry #{after.seq}, before #{before.seq} "
                                                            f"of checkpoint {before.label}: not monotonic"))
            if _when(after) < _when(before) - CLOCK_TOLERANCE:
                store.problems.append(_problem(after.label, f"is dated before checkpoint {before.label}: "
                                                            f"not monotonic"))
        return store


# --- what a checkpoint anchors -------------------------------------------------------------------------------


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rows(kind, ids):
    if kind == "version":
        rows = RecordVersion.objects.filter(pk__in=ids).values_list(
            "pk", "record_id", "version", "content_hash", "record__number")
        return {r[0]: {"line": f"v {r[0]} {r[1]} {r[2]} {r[3]}", "content_hash": r[3],
                       "ident": ("record version", f"{r[4]} v{r[2]}")} for r in rows}
    if kind == "signature":
        rows = Signature.objects.filter(pk__in=ids).values_list(
            "pk", "record_version_id", "content_hash", "signature_hash", "printed_name",
            "record_version__record__number", "record_version__version")
        return {r[0]: {"line": f"s {r[0]} {r[1]} {r[2]} {r[3]}", "content_hash": r[2], "signature_hash": r[3],
                       "ident": ("signature", f"#{r[0]} ({r[4]}, {r[5]} v{r[6]})")} for r in rows}
    rows = RecordFile.objects.filter(pk__in=ids).values_list(
        "pk", "record_version_id", "kind", "sha256", "record_version__record__number", "record_version__version",
        "rendition")
    # a later rendition's line and name carry its number; a first one's read as they did before renditions, so
    # that the checkpoints signed then still verify
    return {r[0]: {"line": f"f {r[0]} {r[1]} {r[2]} {r[3]}" + (f" r{r[6]}" if r[6] != 1 else ""), "sha256": r[3],
                   "rendition": r[6],
                   "ident": ("stored file", f"{r[4]} v{r[5]} {r[2]}" + (f" r{r[6]}" if r[6] != 1 else ""))}
            for r in rows}


_LABEL = {"version": "record version", "signature": "signature", "file": "stored file"}
# the hashes an audit entry recorded, compared with its row's
_RECORDED = {"version": ("content_hash",), "signature": ("content_hash", "signature_hash"), "file": ("sha256",)}


class AnchorScan:
    """One pass, in audit order, over the entries that created record versions, signatures and rendered files
    (up to `upto`), with their rows' stored hashes.

    - `states[seq]`: the counts and running digest over the rows created by the entries up to each `at_seqs`;
    - `problems`: for entries after `detail_after`, a row missing or whose hashes differ from those its entry
      recorded; and (`orphans=True`) rows that no audit entry created;
    - `created_after[kind]`: ids of the rows created after `detail_after` (what an incremental run re-hashes)."""

    def __init__(self, at_seqs=(), *, detail_after=0, upto=None, orphans=True, batch_size=2000):
        self.at_seqs, self.detail_after, self.upto = sorted(set(at_seqs)), detail_after, upto
        self.orphans, self.batch_size = orphans, batch_size
        self.states, self.problems = {}, []
        self.created_after = {kind: set() for kind in _RECORDED}
        self.counts = {kind: 0 for kind in _RECORDED}

    def _entries(self):
        qs = AuditEntry.objects.filter(action__in=ANCHORED_ACTIONS).order_by("seq")
        if self.upto is not None:
            qs = qs.filter(seq__lte=self.upto)
        # the entries before `detail_after` are only digested: their JSON payloads are not read
        yield from (row + (None,) for row in qs.filter(seq__lte=self.detail_after)
                    .values_list("seq", "action", "object_id").iterator(chunk_size=self.batch_size))
        yield from qs.filter(seq__gt=self.detail_after).values_list(
            "seq", "action", "object_id", "new_values").iterator(chunk_size=self.batch_size)

    def _state(self, digest):
        return {"versions": self.counts["version"], "signatures": self.counts["signature"],
                "files": self.counts["file"], "digest": digest.hexdigest()}

    def run(self):
        digest, targets, seen = hashlib.sha256(), list(self.at_seqs), {kind: set() for kind in _RECORDED}
        for chunk in _chunks(self._entries(), self.batch_size):
            wanted = {kind: [] for kind in _RECORDED}
            for _seq, action, object_id, _new in chunk:
                if object_id.isdigit():
                    wanted[ANCHORED_ACTIONS[action]].append(int(object_id))
            rows = {kind: _rows(kind, ids) if ids else {} for kind, ids in wanted.items()}
            for seq, action, object_id, new in chunk:
                while targets and targets[0] < seq:
                    self.states[targets.pop(0)] = self._state(digest.copy())
                kind = ANCHORED_ACTIONS[action]
                row = rows[kind].get(int(object_id)) if object_id.isdigit() else None
                digest.update(((row["line"] if row else f"{kind[0]} {object_id} -") + "\n").encode("utf-8"))
                self.counts[kind] += 1
                if row is not None:
                    seen[kind].add(int(object_id))
                if seq <= self.detail_after:
                    continue
                if row is None:
                    self.problems.append(Problem(_LABEL[kind], f"#{object_id}",
                                                 f"created by audit entry #{seq} but missing (deleted)"))
                    continue
                self.created_after[kind].add(int(object_id))
                recorded = new or {}
                if any(name in recorded and recorded[name] != row[name] for name in _RECORDED[kind]) or (
                        kind == "file" and recorded.get("rendition", 1) != row["rendition"]):  # none said: the first
                    self.problems.append(Problem(*row["ident"], f"its hash differs from the one audit entry #{seq} "
                                                                f"recorded when it was created (rewritten)"))
        while targets:
            self.states[targets.pop(0)] = self._state(digest.copy())
        if self.orphans:
            self._find_orphans(seen)
        return self

    def _find_orphans(self, seen):
        for kind, model in (("version", RecordVersion), ("signature", Signature), ("file", RecordFile)):
            extra = set(model.objects.values_list("pk", flat=True)) - seen[kind]
            for chunk in _chunks(sorted(extra), 500):
                for row in _rows(kind, chunk).values():
                    self.problems.append(Problem(*row["ident"], "no audit entry created it: inserted behind the "
                                                                "application"))


def anchoring_problems(store, scan, *, chain_end):
    """Problems between the signed checkpoints and the database: each checkpoint's audit entry must exist and
    have exactly the signed hash (stored and recomputed), the rows it anchored must digest as signed, the chain
    must reach the last checkpoint, and every checkpoint the audit trail says was written must be in the store."""
    problems = []
    beyond = [c for c in store.checkpoints if c.seq > chain_end]
    if beyond:
        first, last = beyond[0], beyond[-1]
        problems.append(Problem("audit chain", "end", f"ends at #{chain_end} but checkpoint {last.label} anchors "
                                                      f"#{last.seq} ({len(beyond)} checkpoint(s) from {first.label} "
                                                      f"beyond the end): entries removed (truncated), or the "
                                                      f"database was restored from a backup older than the "
                                                      f"checkpoint"))
    within = [c for c in store.checkpoints if c.seq <= chain_end]
    entries = {}
    for chunk in _chunks(sorted({c.seq for c in within}), 500):
        entries.update({e.seq: e for e in AuditEntry.objects.filter(seq__in=chunk)})
    for checkpoint in within:
        entry = entries.get(checkpoint.seq)
        if entry is None:
            problems.append(_problem(checkpoint.label, f"anchors audit entry #{checkpoint.seq}, which is missing"))
            continue
        if entry.entry_hash != checkpoint.hash or entry.compute_hash() != checkpoint.hash:
            problems.append(_problem(checkpoint.label, f"audit entry #{checkpoint.seq} no longer has the hash this "
                                                       f"checkpoint signed: the chain was rewritten"))
        state, signed = scan.states.get(checkpoint.seq), checkpoint.payload["anchored"]
        if state is not None and any(state[k] != signed.get(k) for k in ("versions", "signatures", "files",
                                                                         "digest")):
            problems.append(_problem(checkpoint.label, "the record versions, signatures or stored files it anchored "
                                                       "were changed (digest differs)"))
    in_store = {c.number: c for c in store.checkpoints}
    numbers = {int(p.stem) for p in store.directory.glob("*.json") if p.stem.isdigit()} \
        if store.directory.is_dir() else set()
    for seq, new in AuditEntry.objects.filter(action=WRITTEN).values_list("seq", "new_values"):
        number = (new or {}).get("number")
        if not isinstance(number, int) or new.get("key_id") not in store.public_keys:
            continue  # written with a key this machine does not know: cannot tell
        if number not in numbers:
            problems.append(_problem(f"#{number}", f"written according to audit entry #{seq} but missing from the "
                                                   f"store {store.directory} (removed)"))
        elif number in in_store and payload_hash(in_store[number].payload) != new.get("payload_hash"):
            problems.append(_problem(in_store[number].label, f"differs from the checkpoint audit entry #{seq} "
                                                             f"records as written (replaced)"))
    return problems


# --- writing a checkpoint ------------------------------------------------------------------------------------
