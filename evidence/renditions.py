"""Corrected renditions of a record version's PDF (control of records: a record stays legible).

A record version is rendered once, to a plain PDF and a PDF/A-3b copy (forms.pdf), and those files are never
rewritten: their SHA-256 is in the audit trail, in evidence bundles and in tombstones. The PDFs rendered between
2026-11-30 and the change that numbered the compact faces' glyphs by their ids embed faces whose CIDs are not
their glyph ids (`forms.pdf_fonts.misnumbered_faces`): poppler and the browsers draw them right, Acrobat and
Ghostscript draw most hanzi and digits as empty boxes. An auditor opening such a record in Acrobat reads blanks.

`add_corrected_rendition()` renders the same version again — the same data, the same signatures, today's
layout — as rendition 2 (3, …) of both files, beside the first, which stays as it was. Only a file found
defective is given another rendition (a rendition is a correction, not a way to rewrite a record's look), only
by the records' custodian (the Quality manager), with a reason; each new file writes a "record.rendered" audit
entry naming the file it stands in for. Downloads give the newest rendition unless one is asked for; a
bundle holds every rendition (evidence.bundles); the integrity check and a tombstone count each.

`manage.py check_record_pdfs` finds the defective files of a whole registry (and, with --correct, adds the
renditions), a page at a time."""
import hashlib
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_permission
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Record, RecordFile, RecordVersion
from forms import pdf, pdf_fonts

from .retention import DESTROYED


def can_add_rendition(user):
    """The records' custodian: the Quality manager (or a superuser)."""
    return user.is_authenticated and (
        user.is_superuser or user.has_perm(department_permission(Department.QUALITY, Role.MANAGER)))


@dataclass
class FileCheck:
    """What a check of one stored file found: `faces` that viewers following the PDF specification misread,
    or `problem` when the file could not be read at all (missing, altered, not a PDF)."""
    file: RecordFile
    faces: list = field(default_factory=list)
    problem: str = ""

    @property
    def needs_correction(self):
        return bool(self.faces)

    @property
    def ok(self):
        return not self.faces and not self.problem


def check_file(file):
    """Read one stored PDF and report whether every viewer draws its text (see the module docstring), or that it
    is missing, altered (its SHA-256 is not the one recorded when it was rendered) or not a PDF."""
    try:
        with file.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        return FileCheck(file, problem=_("The stored file is missing."))
    except OSError as exc:
        return FileCheck(file, problem=_("The stored file cannot be read: %(error)s") % {"error": exc})
    if hashlib.sha256(content).hexdigest() != file.sha256:
        return FileCheck(file, problem=_("The stored file no longer matches the SHA-256 recorded when it was "
                                         "rendered."))
    try:
        faces = pdf_fonts.misnumbered_faces(io.BytesIO(content))
    except ValueError as exc:
        return FileCheck(file, problem=_("The stored file cannot be read: %(error)s") % {"error": exc})
    return FileCheck(file, faces=faces)


def check_version(version):
    """{kind: FileCheck} for the newest rendition of each of `version`'s files."""
    return {kind: check_file(file) for kind, file in RecordFile.newest(version.files.all()).items()}


def add_corrected_rendition(version, *, actor, reason):
    """Render `version` again as the next rendition of both files, when the newest rendition of either file
    embeds faces that viewers misread. Returns the new RecordFile rows (plain PDF, PDF/A).

    Refused: not the custodian (NotPermitted), no reason (InvalidInput), a destroyed record, a version never
    rendered, or files that read right or cannot be read at all (WrongState: nothing a new rendering would
    correct; a missing or altered file is a matter for the integrity check, not hidden under a new file)."""
    if not can_add_rendition(actor):
        raise NotPermitted(_("Only the Quality manager may add a corrected rendering of a record."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    added = []
    try:
        with transaction.atomic():
            # one correction of a record at a time: a second request waits here, then finds the files corrected
            record = Record.objects.select_for_update().get(pk=version.record_id)
            if record.status == DESTROYED:
                raise WrongState(_("The record is destroyed; its files are gone."), current_state=DESTROYED)
            version = RecordVersion.objects.select_related("record").get(pk=version.pk)
            files = list(version.files.all())
            if not files:
                raise WrongState(_("This version has not been rendered yet."), current_state="not rendered")
            newest = RecordFile.newest(files)
            if set(newest) != set(pdf.KINDS) or len({file.rendition for file in newest.values()}) != 1:
                # a rendering cut short (a worker lost between the plain PDF and the PDF/A copy): the render job
                # completes it first, so that a later rendition never stands beside half a first one
                raise WrongState(_("This version's rendering is not complete yet; try again shortly."),
                                 current_state="not rendered")
            checks = {kind: check_file(file) for kind, file in newest.items()}
            unreadable = [check for check in checks.values() if check.problem]
            if unreadable:
                raise WrongState(unreadable[0].problem, current_state="unreadable")
            if not any(check.needs_correction for check in checks.values()):
                raise WrongState(_("This version's PDF files read right in every viewer; there is nothing to "
                                   "correct."), current_state="correct")
            rendition = max(file.rendition for file in files) + 1
            added = pdf.render_rendition(version, rendition=rendition, actor=actor, reason=reason,
                                         replaces={kind: check.file for kind, check in checks.items()})
    except BaseException:  # the commit failed, or anything after the files were written: they belong to no row
        pdf.discard_files(added)
        raise
    return added
