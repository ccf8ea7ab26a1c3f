"""Controlled copies (issue 5, item 8; issue 11): every page of a downloaded document is
stamped with the document number, revision, status, who downloaded it and when, and
"uncontrolled when printed"; superseded and obsolete revisions also carry a large
diagonal watermark on every page. The stamp is real text (searchable, CJK fonts
embedded) rendered by WeasyPrint and laid over each page with pikepdf.

The cost is paid once per revision and status, not per download, and does not grow
with the number of page sizes:
  - the marks are three small pieces rendered by WeasyPrint once — the stamp, the
    watermark, the download line — each embedded once as a Form XObject and drawn on
    every page through a matrix (upright on rotated pages; shrunk only on a page too
    small for it), by a few bytes of content stream appended to the page: no rendering
    per page size, no rewriting of the pages' own content;
  - the *base* — the stored original without active content (forms.pdfsafety), with the
    stamps and the watermark on every page — is built on the first download of a
    revision in a status, stored with its SHA-256 (StampedCopyBase) and audited;
  - each download adds only the line naming who downloaded it and when."""
import hashlib
import io
import logging

import pikepdf
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from pikepdf import Name
from weasyprint import HTML

from core import audit
from core.errors import WrongState
from core.i18n import english
from forms.pdf import format_datetime
from forms.pdfsafety import LABELS, active_content, open_pdf

from .models import RevisionStatus, StampedCopyBase

logger = logging.getLogger(__name__)

# Bump when the marks change: the bases of the old design are rebuilt on their next download.
DESIGN = "1"

WATERMARK = {
    RevisionStatus.SUPERSEDED: "已被替代 SUPERSEDED",
    RevisionStatus.OBSOLETE: "已作废 OBSOLETE",
    RevisionStatus.CANCELLED: "已取消 CANCELLED",
    RevisionStatus.DRAFT: "草稿 DRAFT",
    RevisionStatus.IN_REVIEW: "审核中 IN REVIEW",
    RevisionStatus.APPROVED: "待生效 NOT YET EFFECTIVE",
}

MARGIN = 18  # pt, left of the stamps
# The pieces, rendered at these sizes (pt) and placed on every page through a matrix:
# the stamp (up to three lines, at the top and the bottom), the download line (two
# lines, under the bottom stamp) and the watermark (centred). A piece is shrunk only on
# a page too small for it; no piece depends on the size of the page.
STAMP_WIDTH, STAMP_HEIGHT, STAMP_TOP = 300, 31, 6
LINE_WIDTH, LINE_HEIGHT, LINE_BOTTOM = 260, 17, 4
MARK_WIDTH, MARK_HEIGHT = 640, 480


def _status_text(status):
    return {RevisionStatus.EFFECTIVE: "现行有效 EFFECTIVE"}.get(status, WATERMARK.get(status, ""))


def _display_box(page):
    """(x0, y0, x1, y1) of the visible area (crop box) in user space, and the rotation."""
    x0, y0, x1, y1 = (float(v) for v in page.cropbox)
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), rotate


def _display_size(box, rotate):
    width, height = box[2] - box[0], box[3] - box[1]
    if rotate in (90, 270):
        width, height = height, width
    return round(width, 1), round(height, 1)


def _to_user_space(box, rotate):
    """The matrix from the page as displayed (origin bottom left, after /Rotate) to its
    user space, so that the marks read upright whatever the page's rotation."""
    x0, y0, x1, y1 = box
    if rotate == 90:
        return pikepdf.Matrix(0, 1, -1, 0, x1, y0)
    if rotate == 180:
        return pikepdf.Matrix(-1, 0, 0, -1, x1, y1)
    if rotate == 270:
        return pikepdf.Matrix(0, -1, 1, 0, x0, y1)
    return pikepdf.Matrix(1, 0, 0, 1, x0, y0)


def _at(scale, x, y):
    return pikepdf.Matrix(scale, 0, 0, scale, x, y)


def _place(pdf, page, placements, opening):
    """Draw each (name, form, matrix) of `placements` on `page` after the page's own
    content, which is wrapped in q … Q (`opening` is one shared "q" stream) so its
    graphics state cannot leak into the marks. The page's content streams are not
    rewritten. `name` is the form's name in the page's resources (one name per form:
    pages may share their resources)."""
    drawing = ["Q"]
    for name, form, m in placements:
        page.add_resource(form, Name.XObject, Name(name))
        drawing.append(f"q {m.a:.4f} {m.b:.4f} {m.c:.4f} {m.d:.4f} {m.e:.4f} {m.f:.4f} cm {name} Do Q")
    contents = page.obj.get("/Contents")
    streams = list(contents) if isinstance(contents, pikepdf.Array) else ([contents] if contents is not None else [])
    page.obj.Contents = pikepdf.Array([opening, *streams, pdf.make_stream("\n".join(drawing).encode())])


def _font():
    return settings.QMS["PDF_FONT_FAMILY"]


def _pieces_pdf(revision):
    """The stamp (page 1) and, unless the revision is in force, the watermark (page 2):
    one rendering, whatever the number and sizes of the document's pages."""
    line = (f"{escape(revision.document.number)} 版次 Rev. {escape(revision.label)} · "
            f"{_status_text(revision.status)} · 受控副本 CONTROLLED COPY · "
            f"打印后即为非受控文件 UNCONTROLLED WHEN PRINTED")
    watermark = WATERMARK.get(revision.status) if revision.status != RevisionStatus.EFFECTIVE else ""
    html = f"""<html lang="zh-CN"><head><style>
      @page stamp {{ size: {STAMP_WIDTH}pt {STAMP_HEIGHT}pt; margin: 0 }}
      @page mark {{ size: {MARK_WIDTH}pt {MARK_HEIGHT}pt; margin: 0 }}
      body {{ margin: 0; font-family: '{_font()}'; }}
      .stamp {{ page: stamp; box-sizing: border-box; width: {STAMP_WIDTH}pt; height: {STAMP_HEIGHT}pt;
                display: flex; align-items: center; overflow: hidden; font-size: 7pt; line-height: 8.5pt;
                color: #b00020; border: 0.6pt solid #b00020; padding: 1.5pt 4pt;
                background: rgba(255,255,255,0.85); }}
      .mark {{ page: mark; width: {MARK_WIDTH}pt; height: {MARK_HEIGHT}pt; display: flex;
               align-items: center; justify-content: center; }}
      .mark span {{ display: inline-block; white-space: nowrap; font-size: 44pt; font-weight: bold;
                    color: rgba(176, 0, 32, 0.28); transform: rotate(-35deg); }}
    </style></head><body>
      <div class="stamp"><div>{line}</div></div>
      {f'<div class="mark"><span>{escape(watermark)}</span></div>' if watermark else ''}
    </body></html>"""
    return HTML(string=html).write_pdf()


def _download_line_pdf(revision, user, when):
    line = (f"{escape(revision.document.number)} {escape(revision.label)} · 下载 Downloaded by "
            f"{escape(user.printed_name)}<br>"
            f"{escape(format_datetime(when))}")
    html = f"""<html lang="zh-CN"><head><style>
      @page {{ size: {LINE_WIDTH}pt {LINE_HEIGHT}pt; margin: 0 }}
      body {{ margin: 0; font-family: '{_font()}'; }}
      p {{ margin: 0; padding: 1pt 4pt; font-size: 6.5pt; line-height: 7.5pt; color: #b00020;
           height: {LINE_HEIGHT - 2}pt; overflow: hidden; }}
    </style></head><body><p>{line}</p></body></html>"""
    return HTML(string=html).write_pdf()


def _scale(width, piece_width):
    return min(1.0, max(width - 2 * MARGIN, 1) / piece_width)


def build_base(source, revision):
    """The stamped base of `source` (the stored original's bytes) for `revision` in its
    current status: (bytes, active content removed, pages, distinct page sizes)."""
    pdf = open_pdf(source)
    removed = active_content(pdf, remove=True).codes
    pieces = pikepdf.open(io.BytesIO(_pieces_pdf(revision)))
    stamp = pdf.copy_foreign(pieces.pages[0].as_form_xobject())
    mark = pdf.copy_foreign(pieces.pages[1].as_form_xobject()) if len(pieces.pages) > 1 else None
    opening = pdf.make_stream(b"q\n")
    sizes = set()
    for page in pdf.pages:
        box, rotate = _display_box(page)
        width, height = _display_size(box, rotate)
        sizes.add((width, height))
        to_page = _to_user_space(box, rotate)
        scale = _scale(width, STAMP_WIDTH)
        bottom = LINE_BOTTOM + (LINE_HEIGHT + 3) * _scale(width, LINE_WIDTH)
        placements = [("/QMSstamp", stamp, _at(scale, MARGIN, height - STAMP_TOP - STAMP_HEIGHT * scale) @ to_page),
                      ("/QMSstamp", stamp, _at(scale, MARGIN, bottom) @ to_page)]
        if mark is not None:
            fit = min(1.0, width / MARK_WIDTH, height / MARK_HEIGHT)
            placements.append(("/QMSmark", mark, _at(fit, (width - MARK_WIDTH * fit) / 2,
                                                     (height - MARK_HEIGHT * fit) / 2) @ to_page))
        _place(pdf, page, placements, opening)
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue(), removed, len(pdf.pages), len(sizes)


def _read_original(revision_file):
    with revision_file.file.open("rb") as handle:
        source = handle.read()
    if hashlib.sha256(source).hexdigest() != revision_file.sha256:
        raise WrongState(_("The stored file of %(document)s %(revision)s does not match the SHA-256 recorded when it "
                           "was uploaded; no controlled copy is issued. Tell the Quality manager.")
                         % {"document": revision_file.revision.document.number,
                            "revision": revision_file.revision.label})
    return source


def stamped_base(revision_file, *, user):
    """The StampedCopyBase of `revision_file` in its revision's current status: the
    stored one, or built now (outside any transaction: it may take a second or two),
    stored and audited with what was kept out of it."""
    revision = revision_file.revision
    key = {"revision_file": revision_file, "status": revision.status, "design": DESIGN}
    base = StampedCopyBase.objects.filter(**key).first()
    if base is not None:
        return base
    source = _read_original(revision_file)
    data, removed, pages, sizes = build_base(source, revision)
    base = StampedCopyBase(**key, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                           source_sha256=revision_file.sha256, pages=pages, page_sizes=sizes, removed=removed)
    base.file.save(f"{revision.document.number}-{revision.label.replace('/', '-')}-{revision.status}.pdf",
                   ContentFile(data), save=False)
    try:
        with transaction.atomic():
            base.save()
            audit.log("document.controlled_copy_built", base, actor=user, record=revision.record,
                      new={"document": revision.document.number, "revision": revision.label,
                           "status": revision.status, "file": revision_file.original_name,
                           "source_sha256": revision_file.sha256, "sha256": base.sha256, "pages": pages,
                           "page_sizes": sizes, "active_content_removed": removed},
                      reason=("已从受控副本移除主动内容 Active content removed from the controlled copy: "
                              + "; ".join(english(LABELS[code]) for code in removed)) if removed else "")
    except IntegrityError:  # another download built it at the same time: use theirs
        base.file.storage.delete(base.file.name)
        return StampedCopyBase.objects.get(**key)
    return base


def _read_base(base, revision_file):
    with base.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() == base.sha256:
        return data
    # never serve an altered base: build the marks again from the (verified) original
    logger.error("stamped base #%s of %s does not match its SHA-256; rebuilt for this download", base.pk,
                 revision_file.revision)
    return build_base(_read_original(revision_file), revision_file.revision)[0]


def with_download_line(base, revision, user, when):
    """`base` (bytes of a stamped base) with the line naming `user` and `when` on every
    page: one small rendering, one Form XObject, a few bytes of content per page."""
    pdf = pikepdf.open(io.BytesIO(base))
    line = pikepdf.open(io.BytesIO(_download_line_pdf(revision, user, when)))
    form = pdf.copy_foreign(line.pages[0].as_form_xobject())
    opening = pdf.make_stream(b"q\n")
    for page in pdf.pages:
        box, rotate = _display_box(page)
        width, _height = _display_size(box, rotate)
        place = _at(_scale(width, LINE_WIDTH), MARGIN, LINE_BOTTOM) @ _to_user_space(box, rotate)
        _place(pdf, page, [("/QMSdownload", form, place)], opening)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def stamped_copy(revision_file, *, user, when=None):
    """The bytes of a controlled copy of `revision_file` for `user`: the stored base of
    its revision and status, plus the line naming `user` and the time on every page."""
    base = stamped_base(revision_file, user=user)
    return with_download_line(_read_base(base, revision_file), revision_file.revision, user, when or timezone.now())
