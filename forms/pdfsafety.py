"""Active content in PDFs (issue 11): what a PDF would do by itself when opened, or on a
click, beyond showing its pages — scripts, launching programs, sending or importing
data, multimedia players, embedded files, XFA forms.

One function, `active_content()`, finds it (and, asked to, removes it). It is used
  - on upload (forms.uploads.validate_upload): a PDF carrying active content is refused
    with the list of what was found, so the stored file is byte for byte the file that
    was checked, and its SHA-256 the one recorded;
  - when a controlled copy is stamped (procedures.documents.stamping): the copy sent to the
    departments is built without it, whatever a file stored before this check holds.

The walk follows every object reachable from the document catalogue (pages,
annotations, form fields, outlines, name trees, action chains), not the raw file: what
no reader can reach cannot run, and qpdf does not write it back."""
import io
from dataclasses import dataclass, field

import pikepdf
from django.utils.translation import gettext_lazy as _
from pikepdf import Array, Dictionary, Name

# what was found → its label (bilingual through the zh-Hans catalogue)
LABELS = {
    "javascript": _("JavaScript"),
    "automatic_action": _("actions run on opening or on page and field events (/OpenAction, /AA)"),
    "launch": _("launching a program or file (/Launch)"),
    "submit_form": _("sending form data (/SubmitForm)"),
    "import_data": _("importing data (/ImportData)"),
    "remote_file": _("opening another file (/GoToR, /GoToE)"),
    "multimedia": _("multimedia or 3D content (/RichMedia, /Rendition, /Movie, /Sound, /3D)"),
    "embedded_files": _("embedded files (/EmbeddedFiles)"),
    "xfa": _("an XFA form"),
}

# action type → what it is; types not listed (GoTo, Named, URI, Thread, Hide, SetOCGState,
# ResetForm, Trans) only move within the document or follow a link the reader clicks
ACTION_KINDS = {
    "/JavaScript": "javascript", "/Launch": "launch", "/SubmitForm": "submit_form", "/ImportData": "import_data",
    "/GoToR": "remote_file", "/GoToE": "remote_file", "/RichMediaExecute": "multimedia",
    "/Rendition": "multimedia", "/Movie": "multimedia", "/Sound": "multimedia", "/GoTo3DView": "multimedia",
}
# the only actions allowed to run without a click (/OpenAction, /AA): moving within the document
AUTOMATIC_ALLOWED = {"/GoTo", "/Named"}
MULTIMEDIA_ANNOTATIONS = {"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"}
# The logical structure of a tagged PDF (one element per paragraph, the bulk of a Word
# export's objects) holds no actions a reader runs: its annotations are reached from
# their pages.
NOT_WALKED = {"/StructTreeRoot"}


@dataclass
class Findings:
    kinds: set = field(default_factory=set)

    def __bool__(self):
        return bool(self.kinds)

    @property
    def codes(self):
        return sorted(self.kinds)

    def labels(self):
        return [str(LABELS[code]) for code in self.codes]


def _action_kinds(action, *, automatic, seen=None):
    """What an action (and the actions chained after it with /Next) does."""
    seen = seen if seen is not None else set()
    kinds = set()
    actions = action if isinstance(action, Array) else [action]
    for item in actions:
        if not isinstance(item, Dictionary):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        kind = str(item.get("/S", ""))
        if kind in ACTION_KINDS:
            kinds.add(ACTION_KINDS[kind])
        if "/JS" in item:
            kinds.add("javascript")
        if automatic and kind not in AUTOMATIC_ALLOWED:
            kinds.add("automatic_action")
        if "/Next" in item:
            kinds |= _action_kinds(item.Next, automatic=automatic, seen=seen)
    return kinds


def _inspect_dictionary(obj, findings, *, remove, embedded_files):
    """Check (and clean) one dictionary; returns the keys not to walk into."""
    skip = set()
    if "/OpenAction" in obj and isinstance(obj.OpenAction, Dictionary):  # an array is a destination
        kinds = _action_kinds(obj.OpenAction, automatic=True)
        if kinds:
            findings.kinds |= kinds
            if remove:
                del obj["/OpenAction"]
            skip.add("/OpenAction")
    if "/AA" in obj and isinstance(obj.AA, Dictionary):
        kinds = set()
        for trigger in list(obj.AA.keys()):
            kinds |= _action_kinds(obj.AA[trigger], automatic=True)
        if kinds:
            findings.kinds |= kinds
            if remove:
                del obj["/AA"]
            skip.add("/AA")
    if "/A" in obj and isinstance(obj.A, Dictionary):
        kinds = _action_kinds(obj.A, automatic=False)
        if kinds:
            findings.kinds |= kinds
            if remove:
                del obj["/A"]
            skip.add("/A")
    if "/JS" in obj:
        findings.kinds.add("javascript")
        if remove:
            del obj["/JS"]
        skip.add("/JS")
    if str(obj.get("/S", "")) in ACTION_KINDS:  # an action reached by another road (a name tree, /Next)
        findings.kinds.add(ACTION_KINDS[str(obj.S)])
        if remove:
            obj.S = Name.GoTo  # neutered in place: /GoTo without a destination does nothing
    names = obj.get("/Names")
    if isinstance(names, Dictionary):
        if "/JavaScript" in names:
            findings.kinds.add("javascript")
            if remove:
                del names["/JavaScript"]
        if "/EmbeddedFiles" in names and not embedded_files:
            findings.kinds.add("embedded_files")
            if remove:
                del names["/EmbeddedFiles"]
    if "/XFA" in obj:
        findings.kinds.add("xfa")
        if remove:
            del obj["/XFA"]
            if "/NeedsRendering" in obj:
                del obj["/NeedsRendering"]
        skip.add("/XFA")
    if "/EF" in obj and not embedded_files:  # a file specification with the file inside
        findings.kinds.add("embedded_files")
        if remove:
            del obj["/EF"]
        skip.add("/EF")
    if "/RichMediaContent" in obj or "/3DD" in obj:
        findings.kinds.add("multimedia")
    annotations = obj.get("/Annots")
    if isinstance(annotations, Array):
        kept = []
        for annotation in annotations:
            subtype = str(annotation.get("/Subtype", "")) if isinstance(annotation, Dictionary) else ""
            if subtype in MULTIMEDIA_ANNOTATIONS:
                findings.kinds.add("multimedia")
            elif subtype == "/FileAttachment" and not embedded_files:
                findings.kinds.add("embedded_files")
            else:
                kept.append(annotation)
        if remove and len(kept) != len(annotations):
            obj.Annots = Array(kept)
    return skip


class TooComplex(Exception):
    """More objects than a check may visit (a file built to keep the server busy)."""


def active_content(pdf, *, embedded_files=False, remove=False, max_objects=None):
    """The active content of `pdf` (a pikepdf.Pdf) as Findings; with remove=True it is
    also taken out of `pdf` (save it afterwards). `embedded_files=True` accepts files
    embedded in the PDF (e.g. the XML of a PDF/A-3 invoice attached as evidence).
    Raises TooComplex after visiting `max_objects` dictionaries and arrays."""
    findings = Findings()
    stack, seen, visited = [pdf.Root], set(), 0
    while stack:
        obj = stack.pop()
        if not isinstance(obj, (Dictionary, Array, pikepdf.Stream)):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        visited += 1
        if max_objects is not None and visited > max_objects:
            raise TooComplex(max_objects)
        skip = set()
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            skip = _inspect_dictionary(obj, findings, remove=remove, embedded_files=embedded_files)
            stack.extend(obj[key] for key in list(obj.keys()) if key not in skip and key not in NOT_WALKED)
        elif isinstance(obj, Array):
            stack.extend(obj)
    return findings


def open_pdf(data):
    """pikepdf.Pdf of `data` (bytes); pikepdf.PasswordError or pikepdf.PdfError if it is
    password-protected or not a readable PDF."""
    return pikepdf.open(io.BytesIO(data))
