"""Stored files that no row names, for administrators in the browser and through the API.

`core.stray_files` finds them and removes one; this module keeps what a look at the storage found
(`StraySweep`: asked for on the stored-files page or with POST /api/stray-files/, or taken by the nightly
verification) so that the page shows it without walking the storage on every request, runs the look in a Celery
job (a storage of 100,000 records, and a scan of the whole audit trail for each file the entries near it do not
account for, take longer than a request may), and removes the files an administrator selects: their password
re-entered (counted and locked as a signature's), a reason given, each file checked once more and removed with an
audit entry of its own (`storage.stray_removed`). A file kept as evidence is never removed; the page says why it
is kept, in the reader's language.
"""
import datetime
import logging

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit, diffs, esign, stray_files
from core.errors import InvalidInput, NotPermitted
from core.models import AuditEntry

from .access import is_auditor
from .models import StraySweep

logger = logging.getLogger(__name__)

# A look queued or running longer than this was lost with its worker (a sweep of a plant's storage takes minutes):
# another may be asked for. Until then, asking again gives the look already under way.
STALE = datetime.timedelta(hours=1)
SELECT_AT_MOST = 500  # files removed in one request (each is checked against the whole trail again)

KEPT_LABELS = {
    stray_files.NAMED: gettext_lazy("Named by the audit trail"),
    stray_files.QUIET: gettext_lazy("Quiet: nothing audited after it"),
}


def can_manage(user):
    """Who sees and removes stray stored files: an active superuser (as `core.stray_files.remove` requires),
    never an auditor."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser
                and not is_auditor(user))


def _require(user):
    if not can_manage(user):
        raise NotPermitted(_("Only an administrator looks at and removes stored files that no record names."))


def explain(kept, detail, what=None):
    """Why a file is kept as evidence, in the reader's language (core.stray_files.describe says it in English);
    `what`: the audit entry that names it, in words (core.diffs)."""
    if kept is None:
        return ""
    if "entry" in detail:
        if what:
            return _("audit entry #%(entry)s names it: %(what)s") % {"entry": detail["entry"], "what": what}
        return _("audit entry #%(entry)s (%(action)s) names it") % detail
    if "version_id" in detail:
        return _("version %(version)s of record %(record)s holds its SHA-256") % detail
    return _("the audit trail holds no entry in the %(hours)s hours after it was written: the database may be older "
             "than the storage") % {"hours": f"{detail.get('hours', 2):g}"}


def explain_rows(rows):
    """{name: why it is kept} for the kept files among `rows` (a page of them), the audit entries that name them
    said in words — who did what, when — read in one query."""
    seqs = {row["detail"]["entry"] for row in rows if row.get("kept") and "entry" in (row.get("detail") or {})}
    lines = {}
    for entry in AuditEntry.objects.filter(seq__in=seqs).select_related("actor"):
        line = diffs.describe(entry)
        lines[entry.seq] = f"{line.who}, {timezone.localtime(line.when):%Y-%m-%d %H:%M}: {line.what}"
    return {row["name"]: explain(row["kept"], row.get("detail") or {},
                                 lines.get((row.get("detail") or {}).get("entry")))
            for row in rows if row.get("kept")}


def refusal_text(refusal):
    """A core.stray_files.Refused in the reader's language."""
    if refusal.code == "evidence":
        return _("Kept as evidence: %(why)s.") % {"why": explain(refusal.kept, refusal.detail)}
    if refusal.code == "named":
        return _("A record names this file now; it is no longer stray.")
    if refusal.code == "changed":
        return _("The file changed or went since the look that listed it; look again.")
    if refusal.code == "unreadable":
        return _("The file could not be read; the storage's log says why.")
    if refusal.code == "removed":
        return _("Someone else removed it a moment ago.")
    if refusal.code == "error":
        return _("It could not be removed; the server's log says why. Nothing was changed for it.")
    return str(refusal)


def _row(stray):
    return {"name": stray.name, "size": stray.size, "modified": stray.modified.isoformat(), "sha256": stray.sha256,
            "kept": stray.kept, "detail": stray.detail, "removed": None}


def _stray(row):
    return stray_files.StrayFile(name=row["name"], size=row["size"], modified=parse_datetime(row["modified"]),
                                 sha256=row["sha256"], kept=row["kept"], detail=row.get("detail") or {})


STATES = ("removable", "kept", "removed")


def state(row):
    """What may happen to a file a look listed: "removed" (since the look), "kept" (as evidence) or "removable"."""
    return "removed" if row.get("removed") else "kept" if row.get("kept") else "removable"


def counts(sweep):
    """{"removable", "kept", "removed"}: the files listed, by their `state`."""
    tally = dict.fromkeys(STATES, 0)
    for row in sweep.files:
        tally[state(row)] += 1
    return tally


def under_way():
    """The look queued or running, if any (one older than STALE is lost: `request_sweep` gives it up)."""
    return StraySweep.objects.filter(active=True, created_at__gte=timezone.now() - STALE).first()


def last_failed(done):
    """The newest look that failed, if it is newer than `done` (the newest finished one, `latest()`): the page says
    so."""
    failed = StraySweep.objects.filter(status=StraySweep.Status.FAILED).order_by("-created_at", "-pk").first()
    return failed if failed and (done is None or failed.created_at > done.created_at) else None


def latest():
    """The newest finished look (asked for or nightly), if any."""
    return StraySweep.objects.filter(status=StraySweep.Status.DONE).order_by("-finished_at", "-pk").first()


def _give_up_lost_looks():
    """A look queued or running for longer than STALE was lost with its worker: failed, audited."""
    now = timezone.now()
    with transaction.atomic():
        for sweep in StraySweep.objects.select_for_update().filter(active=True, created_at__lt=now - STALE):
            sweep.status, sweep.active, sweep.finished_at = StraySweep.Status.FAILED, None, now
            sweep.error = "lost: no worker finished it within an hour"
            sweep.save(update_fields=["status", "active", "finished_at", "error"])
            audit.log(stray_files.SWEEP_FAILED, sweep, new={"error": sweep.error})


def request_sweep(*, actor):
    """Queue a look at the storage (audited), or give the one already under way (one at a time: `active`)."""
    _require(actor)
    _give_up_lost_looks()
    current = under_way()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            sweep = StraySweep.objects.create(requested_by=actor, active=True)
            audit.log(stray_files.SWEEP_REQUESTED, sweep, actor=actor)
            transaction.on_commit(lambda: sweep_stray_files.delay(sweep.pk))
    except IntegrityError:  # asked for at the same moment by someone else: theirs
        return under_way()
    return sweep


def record_nightly(found):
    """Keep what the nightly verification found (inside its audited transaction), for the page."""
    now = timezone.now()
    return StraySweep.objects.create(origin=StraySweep.Origin.NIGHTLY, status=StraySweep.Status.DONE,
                                     started_at=now, finished_at=now, files=[_row(stray) for stray in found])


@shared_task(acks_late=True, ignore_result=True)
def sweep_stray_files(pk):
    """Look at the storage for the sweep `pk` (core.stray_files.find), keep its list, audit the counts. Run again
    after a lost worker (acks_late), it starts over."""
    claimed = StraySweep.objects.filter(pk=pk, active=True).update(status=StraySweep.Status.RUNNING,
                                                                   started_at=timezone.now())
    if not claimed:
        return
    try:
        found = stray_files.find()
    except Exception as error:  # the page says so; the administrator may look again
        with transaction.atomic():
            sweep = StraySweep.objects.select_for_update().get(pk=pk)
            if not sweep.active:  # given up as lost meanwhile
                return
            sweep.status, sweep.error, sweep.finished_at = StraySweep.Status.FAILED, repr(error)[:2000], timezone.now()
            sweep.active = None
            sweep.save(update_fields=["status", "error", "finished_at", "active"])
            audit.log(stray_files.SWEEP_FAILED, sweep, new={"error": sweep.error})
        logger.exception("the look at the storage (sweep %s) failed", pk)
        return
    with transaction.atomic():
        sweep = StraySweep.objects.select_for_update().get(pk=pk)
        if not sweep.active:  # given up as lost meanwhile (a later look replaces it)
            return
        sweep.files = [_row(stray) for stray in found]
        sweep.status, sweep.finished_at, sweep.active = StraySweep.Status.DONE, timezone.now(), None
        sweep.save(update_fields=["files", "status", "finished_at", "active"])
        audit.log(stray_files.SWEPT, sweep, new={"files": len(found), **counts(sweep)})


def remove_files(sweep, names, *, actor, password, reason, username=None):
    """Remove the files `names` that `sweep` listed as removable: the password re-entered (checked, counted and
    locked as a signature's, before anything changes), a reason for the audit trail. Each file is checked again (the
    whole trail read once for all of them) and removed with an audit entry of its own, or refused, and its row in
    the look marked in the same commit. Returns [(name, entry or None, refusal text)] in the order given."""
    _require(actor)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("A reason is required.")]
    names = list(dict.fromkeys(name for name in names if name))
    rows = {row["name"]: row for row in sweep.files}
    if not names:
        errors["files"] = [_("Select at least one file.")]
    elif len(names) > SELECT_AT_MOST:
        errors["files"] = [_("At most %(n)d files at a time.") % {"n": SELECT_AT_MOST}]
    else:
        unknown = [name for name in names if name not in rows]
        kept = [name for name in names if name in rows and rows[name].get("kept")]
        gone = [name for name in names if name in rows and rows[name].get("removed")]
        for problem, listed in ((_("Not listed by this look: %(names)s."), unknown),
                                (_("Kept as evidence, never removed: %(names)s."), kept),
                                (_("Already removed: %(names)s."), gone)):
            if listed:
                errors.setdefault("files", []).append(problem % {"names": ", ".join(listed[:10])})
    if errors:
        raise InvalidInput(_("Nothing was removed."), field_errors=errors)
    esign.verify_signer(actor, password, username=username, require_username=username is not None)
    outcome_of = {}

    def mark(done):
        """After each chunk's commit (core.stray_files.remove_many): mark its files on the look (a report: the audit
        entries are the record of what was removed)."""
        with transaction.atomic():
            locked = StraySweep.objects.select_for_update().get(pk=sweep.pk)
            rows = {row["name"]: row for row in locked.files}
            for stray, outcome in done:
                row = rows[stray.name]
                if isinstance(outcome, stray_files.Refused):
                    if outcome.evidence and not row.get("removed"):  # the trail names it now: keep it, say so
                        row["kept"], row["detail"] = outcome.kept, outcome.detail
                    outcome_of[stray.name] = (None, refusal_text(outcome))
                else:
                    row["kept"], row["removed"] = None, {
                        "at": outcome.timestamp.isoformat(), "by": actor.get_username(),
                        "by_name": actor.printed_name, "entry": outcome.seq}
                    outcome_of[stray.name] = (outcome, "")
            locked.save(update_fields=["files"])

    # a chunk at a time, each checked against the trail read once for all of them (core.stray_files.remove_many)
    stray_files.remove_many([_stray(rows[name]) for name in names], actor=actor, reason=reason, on_chunk=mark)
    results = [(name, *outcome_of[name]) for name in names]
    sweep.refresh_from_db()
    return results
