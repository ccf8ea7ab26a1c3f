"""Controlled copies (issue 5, item 8): every page of a downloaded document is
stamped with the document number, revision, status, who downloaded it and when, and
"uncontrolled when printed"; superseded and obsolete revisions also carry a large
diagonal watermark on every page. The stamp is real text (searchable, CJK fonts
embedded) rendered by WeasyPrint and laid over each page with pikepdf."""
import io

import pikepdf
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from weasyprint import HTML

from core.pdf import format_datetime

from .models import RevisionStatus

WATERMARK = {
    RevisionStatus.SUPERSEDED: "已被替代 SUPERSEDED",
    RevisionStatus.OBSOLETE: "已作废 OBSOLETE",
    RevisionStatus.CANCELLED: "已取消 CANCELLED",
    RevisionStatus.DRAFT: "草稿 DRAFT",
    RevisionStatus.IN_REVIEW: "审核中 IN REVIEW",
    RevisionStatus.APPROVED: "待生效 NOT YET EFFECTIVE",
}


def _overlay(revision, user, when, width_pt, height_pt):
    status_text = {RevisionStatus.EFFECTIVE: "现行有效 EFFECTIVE"}.get(revision.status, WATERMARK.get(revision.status, ""))
    line = (f"{revision.document.number} 版次 Rev. {revision.label} · {status_text} · "
            f"下载 Downloaded by {user.printed_name} {format_datetime(when)} · "
            f"打印后即为非受控文件 UNCONTROLLED WHEN PRINTED")
    watermark = WATERMARK.get(revision.status) if revision.status != RevisionStatus.EFFECTIVE else ""
    font = settings.QMS["PDF_FONT_FAMILY"]
    html = f"""<html lang="zh-CN"><head><style>
      @page {{ size: {width_pt}pt {height_pt}pt; margin: 0 }}
      body {{ margin: 0; font-family: '{font}'; }}
      .stamp {{ position: absolute; left: 18pt; right: 18pt; font-size: 7pt; color: #b00020;
                border: 0.6pt solid #b00020; padding: 2pt 4pt; background: rgba(255,255,255,0.85); }}
      .top {{ top: 6pt }} .bottom {{ bottom: 6pt }}
      .mark {{ position: absolute; top: 45%; left: 0; right: 0; text-align: center; font-size: 44pt;
               color: rgba(176, 0, 32, 0.28); transform: rotate(-35deg); font-weight: bold; }}
    </style></head><body>
      <div class="stamp top">{escape(line)}</div>
      <div class="stamp bottom">{escape(line)}</div>
      {f'<div class="mark">{escape(watermark)}</div>' if watermark else ''}
    </body></html>"""
    return HTML(string=html).write_pdf()


def stamped_copy(revision_file, *, user, when=None):
    """The bytes of a controlled copy of `revision_file` for `user`."""
    when = when or timezone.now()
    revision = revision_file.revision
    with revision_file.file.open("rb") as handle:
        source = pikepdf.open(io.BytesIO(handle.read()))
    overlays = {}
    for page in source.pages:
        box = [float(v) for v in page.mediabox]
        size = (round(box[2] - box[0], 1), round(box[3] - box[1], 1))
        if size not in overlays:
            overlays[size] = pikepdf.open(io.BytesIO(_overlay(revision, user, when, *size)))
        page.add_overlay(overlays[size].pages[0], pikepdf.Rectangle(*box))
    out = io.BytesIO()
    source.save(out)
    return out.getvalue()
