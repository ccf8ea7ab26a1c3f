"""Rendering of controlled record versions to PDF (and PDF/A-3b archive copies).

Every record version is rendered exactly once per kind ("pdf", "pdfa") by
`render_version()`, normally from the Celery task queued with `queue_render()`
after the version's transaction commits. The files are append-only RecordFile
rows: an existing version/kind is never rendered again, so the archived bytes
(and their SHA-256) never change.

Rendering never touches the network: `StaticURLFetcher` serves only the
project's own static files and data: URIs, and refuses everything else.

The templates get a small filter library, loaded with `{% load qms_pdf %}`
(registered by the engine built in `_engine()`):

* ``value|dt``       an ISO date-time (or datetime) → "2026-11-23 14:05:09 CST (UTC+08:00)"
* ``value|d``        an ISO date/date-time → "2026-11-23"
* ``value|yn``       truthy → "是 Yes", falsy → "否 No"
* ``value|dept``     department code → "品质部 Quality"
* ``value|bi:"Verdict"``  stored code → bilingual label of that BilingualChoices class
* ``value|num``      "12.50" → "12.5", "1250" → "1,250"; blank → ""
"""
import datetime
import decimal
import hashlib
import logging
import mimetypes
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import weasyprint
from celery import shared_task
from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template import Context, Engine
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from weasyprint.text.fonts import FontConfiguration

from core import audit, job_gate, registry
from core.canonical import canonical_json
from accounts.models import Department
from core.choices import choices_named
from core.models import Meaning, RecordFile, RecordVersion, Signature
from core.records import is_amended

from . import pdf_fonts

logger = logging.getLogger(__name__)

KINDS = (RecordFile.Kind.PDF, RecordFile.Kind.ARCHIVE)

CN_NUMERALS = "零一二三四五六七八九十"


class RenderError(RuntimeError):
    """The record could not be rendered (e.g. a resource of the template was refused)."""


class ResourceRefused(ValueError):
    """A template asked for a resource outside the project's static files."""


# --- URL fetcher: own static files and data: URIs only ----------------------------------


def _static_url():
    return settings.STATIC_URL or "/static/"


def _static_url_is_absolute():
    return bool(urlsplit(_static_url()).scheme)


def base_url():
    """The base URL the record HTML is rendered with: STATIC_URL itself (as a file: URL
    when STATIC_URL is a path), so both "/static/pdf/x.css" and "pdf/x.css" resolve to
    a static file lookup."""
    url = _static_url()
    if _static_url_is_absolute():
        return url
    path = urlsplit(url).path or "/static/"
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/"):
        path += "/"
    return "file://" + path


def static_roots():
    """Every directory static files may come from: STATIC_ROOT, STATICFILES_DIRS and
    the apps' static directories (as the configured finders see them)."""
    roots = []
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    for finder in finders.get_finders():
        for location in getattr(finder, "locations", ()):  # FileSystemFinder: (prefix, root)
            roots.append(Path(location[1] if isinstance(location, (tuple, list)) else location))
        for storage in getattr(finder, "storages", {}).values():  # AppDirectoriesFinder
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    resolved = []
    for root in roots:
        try:
            resolved.append(root.resolve())
        except OSError:
            continue
    return resolved


def _inside(path: Path, roots) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def resolve_static(url) -> Path:
    """The file a static URL or file: URL points to, if it is one of the project's own
    static files. Raises ResourceRefused otherwise."""
    roots = static_roots()
    static_url = _static_url()
    relative = None
    if _static_url_is_absolute():
        if url.startswith(static_url):
            relative = unquote(urlsplit(url[len(static_url):]).path)
        elif not url.lower().startswith("file:"):
            raise ResourceRefused(f"refused (not a static file of this project): {url}")
    parts = urlsplit(url)
    if relative is None:
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"refused (not a static file of this project): {url}")
        path = url2pathname(unquote(parts.path))
        prefix = urlsplit(static_url).path or "/static/"
        if path.startswith(prefix):
            relative = path[len(prefix):]
        else:
            candidate = Path(path).resolve()
            if candidate.is_file() and _inside(candidate, roots):
                return candidate
            raise ResourceRefused(f"refused (outside the static directories): {url}")
    relative = relative.lstrip("/")
    if not relative or "\x00" in relative:
        raise ResourceRefused(f"refused: {url}")
    candidates = []
    try:
        found = finders.find(relative)
    except Exception:  # SuspiciousFileOperation on "../" and the like
        found = None
    if found:
        candidates.append(Path(found))
    if settings.STATIC_ROOT:
        candidates.append(Path(settings.STATIC_ROOT) / relative)
    for candidate in candidates:
        candidate = candidate.resolve()
        if candidate.is_file() and _inside(candidate, roots):
            return candidate
    raise ResourceRefused(f"refused (no such static file): {url}")


try:  # WeasyPrint >= 66
    from weasyprint.urls import URLFetcher as _BaseFetcher, URLFetcherResponse
except ImportError:  # pragma: no cover
    _BaseFetcher, URLFetcherResponse = object, None


class StaticURLFetcher(_BaseFetcher):
    """WeasyPrint URL fetcher that serves the project's static files and data: URIs
    and refuses everything else (no network, no other files). With
    fail_on_errors=True (the default here) a refused resource stops the rendering,
    so a record is never archived without its stylesheet."""

    def __init__(self, fail_on_errors=True):
        super().__init__(timeout=1, allowed_protocols=("file", "data"), allow_redirects=False,
                         fail_on_errors=fail_on_errors)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)  # decoded in memory by urllib's DataHandler
        path = resolve_static(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        response_headers = {"Content-Type": content_type}
        if content_type.startswith("text/"):
            response_headers["Content-Type"] = f"{content_type}; charset=utf-8"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers=response_headers)


def url_fetcher(url):
    """Fetch `url` as a record rendering would (raises ResourceRefused when refused)."""
    return StaticURLFetcher().fetch(url)


# --- formatting ------------------------------------------------------------------------------


def _zone():
    return ZoneInfo(settings.TIME_ZONE or "UTC")


def format_datetime(value):
    """A moment in the server's time zone: "2026-11-23 14:05:09 CST (UTC+08:00)"."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            return value
        value = parsed
    if not isinstance(value, datetime.datetime):
        return str(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.timezone.utc)
    local = value.astimezone(_zone())
    offset = local.strftime("%z") or "+0000"
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:5]})"


def format_date(value):
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime):
        return value.astimezone(_zone()).date().isoformat() if timezone.is_aware(value) else value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value or " " in value.strip() else None
        if moment is not None:
            return format_date(moment)
        day = parse_date(value[:10]) if len(value) >= 10 else None
        if day is not None:
            return day.isoformat()
    return str(value)


def format_number(value):
    """"1250" → "1,250", "12.50" → "12.5"; text that is not a number is printed as is."""
    if value in (None, ""):
        return ""
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(abs(number).normalize(), "f")
    integer, _, fraction = text.partition(".")
    sign = "-" if number < 0 else ""
    return f"{sign}{int(integer):,}" + (f".{fraction}" if fraction else "")


def bilingual(value, choices_name):
    """`{{ data.verdict|bi:"Verdict" }}` → "有条件满足 Can meet with conditions": the label of a
    stored code from its BilingualChoices class (core.choices), the one home of each label.
    A code that is no longer a member prints as it is, so old versions still render."""
    return choices_named(choices_name).bilingual_of(value)


def department(value):
    return Department.bilingual_of(value)


register = template.Library()
register.filter("dt", format_datetime)
register.filter("d", format_date)
register.filter("num", format_number)
register.filter("bi", bilingual)
register.filter("dept", department)


@register.filter("yn")
def yes_no(value):
    return "是 Yes" if value else "否 No"


@lru_cache(maxsize=1)
def _engine():
    dirs = []
    for config in settings.TEMPLATES:
        if config.get("BACKEND") == "django.template.backends.django.DjangoTemplates":
            dirs.extend(config.get("DIRS", []))
    return Engine(
        dirs=dirs, app_dirs=True, autoescape=True, string_if_invalid="",
        libraries={"static": "django.templatetags.static", "qms_pdf": "forms.pdf"},
    )


# --- template context ------------------------------------------------------------------------


class SignatureLine:
    """One row of the signature manifest, as the templates print it."""

    def __init__(self, signature: Signature):
        self.printed_name = signature.printed_name
        self.on_behalf_of_name = signature.on_behalf_of_name  # a substitute signed for an absent person
        self.role = signature.role
        self.meaning = signature.meaning
        self.meaning_en = Meaning(signature.meaning).en
        self.meaning_zh = Meaning(signature.meaning).zh
        self.reason = signature.reason
        self.signed_at_value = signature.signed_at
        self.signed_at = format_datetime(signature.signed_at)
        self.version = signature.record_version.version
        self.content_hash = signature.content_hash
        self.content_hash_short = signature.content_hash[:16]
        self.signature_hash = signature.signature_hash


def _copy_marks(copies):
    marks = []
    for number, text in enumerate(copies, start=1):
        text = str(text).strip()
        zh, _, en = text.partition(" ")
        numeral = CN_NUMERALS[number] if number <= 10 else str(number)
        marks.append({
            "number": number,
            "label": text,
            "label_zh": zh,
            "label_en": en,
            "mark_zh": f"第{numeral}联 {zh}".strip(),
            "mark_en": f"Copy {number} {en}".strip(),
            "mark": f"第{numeral}联 {zh} / Copy {number} {en}".strip(),
        })
    return marks


def build_context(version, *, copy=None, generated_at=None):
    """The template context of one record version (see the module docstring)."""
    record = version.record
    rtype = registry.get(record.record_type)
    signatures = (
        Signature.objects.filter(record_version__record=record, record_version__version__lte=version.version)
        .select_related("record_version")
        .order_by("signed_at", "id")
    )
    qms = settings.QMS
    return {
        "record": record,
        "version": version,
        "data": version.data,
        "rtype": rtype,
        "company_zh": qms.get("COMPANY_NAME_ZH", ""),
        "company_en": qms.get("COMPANY_NAME_EN", ""),
        "font_families": _font_families(),
        "signatures": [SignatureLine(s) for s in signatures],
        "generated_at": format_datetime(generated_at or timezone.now()),
        "amended": is_amended(version),
        "copies": _copy_marks(rtype.copies),
        "copy": copy,
        "content_hash": version.content_hash,
        **(rtype.pdf_context(version) if rtype.pdf_context else {}),
    }


def render_html(version, *, copy=None, generated_at=None) -> str:
    rtype = registry.get(version.record.record_type)
    context = build_context(version, copy=copy, generated_at=generated_at)
    return _engine().get_template(rtype.pdf_template).render(Context(context))


# --- rendering ------------------------------------------------------------------------------


def attachment_name(version):
    return f"{version.record.number}-v{version.version}.json"


# The stylesheet every record template links (base_record.html)
RECORD_CSS = "pdf/record.css"


@lru_cache(maxsize=1)
def _font_config():
    """One FontConfiguration per worker process. Creating one loads fontconfig's whole font
    list (every system font, the CJK ones included), which cost more than the layout of a
    one-page record; WeasyPrint's documentation recommends sharing it between renders."""
    return FontConfiguration()


class _FontFileFetcher(StaticURLFetcher):
    """The static fetcher that also serves the compact PDF faces (forms.pdf_fonts), and nothing else beside them."""

    def fetch(self, url, headers=None):
        faces = {path.as_uri(): path for path in pdf_fonts.faces().values()}
        if url in faces:
            return URLFetcherResponse(url, body=faces[url].read_bytes(), headers={"Content-Type": "font/otf"})
        return super().fetch(url, headers)


@lru_cache(maxsize=1)
def _font_face_stylesheet():
    """The @font-face rules of the compact CJK faces (forms.pdf_fonts), registered once per worker with
    its FontConfiguration; None while they are not built (the records are then set in the system face)."""
    faces = pdf_fonts.faces()
    if not faces:
        return None
    rules = "".join(f"@font-face {{ font-family: '{pdf_fonts.FAMILY}'; font-weight: {weight}; "
                    f"src: url('{path.as_uri()}'); }}" for weight, path in faces.items())
    return weasyprint.CSS(string=rules, url_fetcher=_FontFileFetcher(), font_config=_font_config())


def _font_families():
    """The CSS font-family of a record: the compact face first when this worker registered it (forms.pdf_fonts),
    then the configured one (Pango sets a character the first lacks in the next)."""
    names = [settings.QMS["PDF_FONT_FAMILY"]]
    if _font_face_stylesheet() is not None:
        names.insert(0, pdf_fonts.FAMILY)
    return ", ".join(f"'{name}'" for name in names)


def _charts_in_compact_face(html):
    """A chart names its font in each SVG text's own attribute (forms.charts: "'Noto Sans CJK SC', …"; charts drawn
    earlier are kept so in records' data), and WeasyPrint draws an inline SVG without the page's CSS, so the
    record's font-family never reaches it. Where this worker registered the compact faces, name them first there too:
    the same glyphs, and the PDF embeds the record's own face rather than a second subset, of the 65,535-glyph system
    face, beside it (a record with charts: ~350 KB → ~60 KB)."""
    if _font_face_stylesheet() is None:
        return html
    system = settings.QMS["PDF_FONT_FAMILY"]
    return html.replace(f"font-family=\"'{system}'", f"font-family=\"'{pdf_fonts.FAMILY}', '{system}'")


def _stylesheets():
    return [sheet for sheet in (_font_face_stylesheet(), _record_stylesheet()) if sheet is not None]


@lru_cache(maxsize=1)
def _record_stylesheet():
    """record.css parsed once per worker (the templates' <link> is left out of the HTML
    WeasyPrint reads; a browser showing the same HTML on the record page still follows it)."""
    return weasyprint.CSS(url=base_url() + RECORD_CSS, url_fetcher=StaticURLFetcher(), font_config=_font_config())


def warm_up():
    """Load what every render in a worker shares: fontconfig's font list (`_font_config`), the @font-face
    and record stylesheets, the template engine. A worker calls it once at start (config.celery), before it
    freezes its heap, so that these live outside the collector's passes and the first render costs what the
    others do."""
    _stylesheets()
    _engine()


def render_document(version, *, generated_at=None):
    """Lay `version` out once: a WeasyPrint Document from which both the plain PDF and the
    PDF/A copy are written (`write_pdf_bytes`). When the record type names copies, the whole
    record is rendered once per copy (each with its own page numbering) and the copies are
    bound together."""
    from weasyprint.urls import FatalURLFetchingError  # noqa: PLC0415 — newer WeasyPrint only (cf. URLFetcher guard): fails a render, not the import

    rtype = registry.get(version.record.record_type)
    generated_at = generated_at or timezone.now()
    fetcher = StaticURLFetcher()
    font_config = _font_config()
    try:
        stylesheets = _stylesheets()
        documents = []
        for copy in _copy_marks(rtype.copies) or [None]:
            context = build_context(version, copy=copy, generated_at=generated_at)
            context["stylesheet_preloaded"] = True
            html = _charts_in_compact_face(_engine().get_template(rtype.pdf_template).render(Context(context)))
            documents.append(
                weasyprint.HTML(string=html, base_url=base_url(), url_fetcher=fetcher)
                .render(font_config=font_config, stylesheets=stylesheets)
            )
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint: make it an ordinary error
        cause = exc.__cause__ or exc
        raise RenderError(f"{version}: {cause}") from cause
    document = documents[0]
    if len(documents) > 1:
        document = document.copy([page for doc in documents for page in doc.pages])
    return document


def write_pdf_bytes(document, version, *, archive=False) -> bytes:
    """The PDF bytes of a rendered `document` (PDF/A-3b with the version's canonical JSON
    embedded when `archive`)."""
    options = {}
    if archive:
        created = version.created_at or timezone.now()
        options.update(
            pdf_variant="pdf/a-3b",
            attachments=[weasyprint.Attachment(
                string=canonical_json(version.data),
                name=attachment_name(version),
                description=f"{version.record.number} v{version.version} canonical JSON "
                            f"(SHA-256 {version.content_hash})",
                created=created, modified=created, relationship="Source",
            )],
        )
    return document.write_pdf(**options)


def render_pdf_bytes(version, *, archive=False) -> bytes:
    """The PDF of `version` (PDF/A-3b with the version's canonical JSON embedded when `archive`)."""
    return write_pdf_bytes(render_document(version), version, archive=archive)


def render_version(version) -> list:
    """Render the files of `version` that do not exist yet ("pdf" and "pdfa"): its first rendition.

    Idempotent: an existing version/kind is never rendered again. Returns the
    version's first-rendition RecordFile rows (existing or new) in kind order. When two workers
    render the same version at once, the first to commit wins and the other keeps
    that row (its own rendering is discarded)."""
    files = []
    document = None  # laid out once, on the first missing kind; both kinds are written from it
    existing_rows = {row.kind: row for row in RecordFile.objects.filter(record_version=version, kind__in=KINDS,
                                                                        rendition=1)}
    for kind in KINDS:
        existing = existing_rows.get(kind)
        if existing is not None:
            files.append(existing)
            continue
        started = time.perf_counter()
        if document is None:
            document = render_document(version)
        content = write_pdf_bytes(document, version, archive=kind == RecordFile.Kind.ARCHIVE)
        row = RecordFile(record_version=version, kind=kind, render_seconds=round(time.perf_counter() - started, 3))
        try:
            _store(row, content)
        except IntegrityError:
            winner = RecordFile.objects.filter(record_version=version, kind=kind, rendition=1).first()
            if winner is None:
                raise
            logger.info("%s %s was rendered concurrently; keeping the first file", version, kind)
            files.append(winner)
            continue
        files.append(row)
    return files


def render_rendition(version, *, rendition, actor, reason, replaces) -> list:
    """Render `version` again, as rendition `rendition` of both kinds, beside the files it already has (which
    stay as they are): one layout, both files and an audit entry each in the caller's transaction. `replaces`
    maps each kind to the file this one is rendered to stand in for (its audit entry names it). The caller
    (evidence.renditions) decides whether a version may have another rendition; an IntegrityError means that
    rendition was added meanwhile, and no file is left behind.

    Both files are written out before the first audit entry: an entry takes the audit chain's head row until
    the commit, and every other change in the system waits for it, so the head is not held while the PDF/A
    copy is written (a third of the render)."""
    started = time.perf_counter()
    document = render_document(version)
    contents = []
    for kind in KINDS:
        contents.append((kind, write_pdf_bytes(document, version, archive=kind == RecordFile.Kind.ARCHIVE),
                         round(time.perf_counter() - started, 3)))
        started = time.perf_counter()
    files = []
    try:
        for kind, content, seconds in contents:
            row = RecordFile(record_version=version, kind=kind, rendition=rendition, reason=reason,
                             rendered_by=actor, render_seconds=seconds)
            previous = replaces.get(kind)
            _store(row, content, actor=actor, reason=reason,
                   replaces={"rendition": previous.rendition, "sha256": previous.sha256} if previous else None)
            files.append(row)
    except BaseException:  # the caller's transaction rolls back: the files already written belong to no row
        discard_files(files)
        raise
    return files


def discard_files(rows):
    """Remove the stored files of `rows` whose transaction did not commit (a missing file is no error)."""
    for row in rows:
        _discard(row, row.file.name)


def _store(row, content, *, actor=None, reason="", replaces=None):
    """Write `content` as `row`'s file, save the row and its audit entry in one transaction (a savepoint inside
    the caller's); the file is removed again when that does not commit here."""
    version = row.record_version
    row.sha256, row.size = hashlib.sha256(content).hexdigest(), len(content)
    stored_name = None
    new = {"kind": row.kind, "sha256": row.sha256, "version": version.version, "size": row.size}
    if row.rendition > 1:
        new.update(rendition=row.rendition, replaces=replaces)
    try:
        with transaction.atomic():
            row.file.save(row.download_name, ContentFile(content), save=False)
            stored_name = row.file.name
            row.save()
            audit.log("record.rendered", row, actor=actor, record=version.record, reason=reason,
                      process_id=version.record.process_id, new={**new, "file": row.file.name})
    except BaseException:
        _discard(row, stored_name)
        raise


def _discard(row, stored_name):
    """Remove a file written for a row that did not commit."""
    if stored_name:
        try:
            row.file.storage.delete(stored_name)
        except Exception:  # pragma: no cover - best effort
            logger.warning("could not remove orphaned file %s", stored_name, exc_info=True)


def queue_render(version):
    """Render `version` in the background once the current transaction commits."""
    pk = version.pk
    transaction.on_commit(lambda: render_record_version.delay(pk))


@shared_task(
    name="core.tasks.render_record_version",  # its name before it moved here: messages already queued keep working
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,  # 1 s, 2 s, 4 s (+ jitter)
    retry_backoff_max=300,
    retry_jitter=True,
)
def render_record_version(self, version_id):
    """Render the PDF and the PDF/A-3b archive copy of one record version (idempotent:
    files that already exist are kept, so a retry or a duplicate delivery is harmless).
    Returns the ids of the version's RecordFile rows.

    A render lost with a killed worker is done again by the next delivery of the same
    message: at once when only the pool process died, after the broker's visibility
    timeout when the whole worker did (see config/settings/celery.py)."""

    if (self.request.delivery_info or {}).get("redelivered"):
        logger.warning("render_record_version: record version %s redelivered (its first worker was lost)",
                       version_id)
    version = RecordVersion.objects.select_related("record").filter(pk=version_id).first()
    if version is None:  # the version's transaction rolled back: nothing to render
        logger.warning("render_record_version: record version %s does not exist", version_id)
        return []
    job_gate.hold("render.started")  # tests/test_worker_kill.py kills the worker here
    return [f.pk for f in render_version(version)]
