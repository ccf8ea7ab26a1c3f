"""The file name of every download (records' PDFs, stamped document copies, attachments,
evidence bundles), as RFC 6266 says: `filename="<ASCII fallback>"` for old clients and
`filename*=UTF-8''<percent-encoded name>` for the real one. A Chinese name set as a
plain header would otherwise be MIME-encoded whole (`=?utf-8?b?…?=`), which browsers
do not read as a file name."""
import re
import unicodedata
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r'[^A-Za-z0-9._\-+()\[\] ]+')


def ascii_fallback(filename):
    """`filename` reduced to safe ASCII, its extension kept: accents dropped, other
    characters replaced by "_" (QR-MK-001-订单评审记录表.pdf → QR-MK-001-_.pdf,
    合同.pdf → download.pdf)."""
    stem, dot, extension = filename.rpartition(".")
    if not (dot and stem and extension.isascii() and extension.isalnum()):
        stem, extension = filename, ""
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE_ASCII.sub("_", stem).strip(" ._") or "download"
    return f"{stem}.{extension}" if extension else stem


def content_disposition(filename, *, attachment=False):
    """The Content-Disposition header value for `filename` (inline unless `attachment`)."""
    filename = filename.replace("\r", " ").replace("\n", " ").replace("\x00", "")
    disposition = "attachment" if attachment else "inline"
    fallback = ascii_fallback(filename).replace("\\", "_").replace('"', "_")
    if filename == fallback:
        return f'{disposition}; filename="{fallback}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attach_filename(response, filename, *, attachment=False):
    """Set the response's Content-Disposition for `filename`; returns the response."""
    response["Content-Disposition"] = content_disposition(filename, attachment=attachment)
    return response
