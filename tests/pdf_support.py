"""Generated PDFs for the upload and stamping tests: many page sizes, and every kind of
active content a controlled copy must not carry. Built with pikepdf, no fixtures on disk."""
import io

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile
from pikepdf import Array, Dictionary, Name, String


def _text_page(pdf, width, height, text):
    page = pdf.add_blank_page(page_size=(width, height))
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
    y = max(height / 2, 40)
    lines = [text, f"Size {width} x {height} pt", "Uncontrolled test content / ISO 9001 7.5"]
    drawing = " ".join(f"BT /F1 9 Tf 40 {y - 12 * n:.1f} Td ({line}) Tj ET" for n, line in enumerate(lines))
    page.obj.Contents = pdf.make_stream(drawing.encode("latin-1"))
    return page


def many_sizes_pdf(sizes=200, pages=None, text="Page body"):
    """A small PDF (tens of KB) with `sizes` distinct page sizes, one page each (or
    `pages` pages cycling through the sizes)."""
    pdf = pikepdf.new()
    for n in range(pages or sizes):
        k = n % sizes
        _text_page(pdf, 300 + 2 * k, 400 + 3 * k, f"{text} {n + 1}")
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def plain_pdf(text="Plain body", pages=1):
    return many_sizes_pdf(sizes=1, pages=pages, text=text)


def _javascript(pdf, code="app.alert('x');"):
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(code)))


def _with(build):
    pdf = pikepdf.open(io.BytesIO(plain_pdf()))
    build(pdf)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _embed(pdf):
    data = pdf.make_stream(b"payload", Type=Name.EmbeddedFile)
    spec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("x.exe"), UF=String("x.exe"),
                                        EF=Dictionary(F=data)))
    pdf.Root.Names = Dictionary(EmbeddedFiles=Dictionary(Names=Array([String("x.exe"), spec])))


def _annotation(pdf, **entries):
    annot = pdf.make_indirect(Dictionary(Type=Name.Annot, Rect=Array([10, 10, 50, 50]), **entries))
    pdf.pages[0].obj.Annots = Array([annot])
    return annot


# name → builder of one PDF carrying that kind of active content
ACTIVE = {
    "open_action_javascript": lambda: _with(lambda pdf: setattr(pdf.Root, "OpenAction", _javascript(pdf))),
    "names_javascript": lambda: _with(lambda pdf: setattr(pdf.Root, "Names", Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), _javascript(pdf)]))))),
    "page_additional_action": lambda: _with(lambda pdf: setattr(pdf.pages[0].obj, "AA", Dictionary(
        O=_javascript(pdf)))),
    "annotation_additional_action": lambda: _with(lambda pdf: setattr(pdf.Root, "AcroForm", Dictionary(
        Fields=Array([_annotation(pdf, Subtype=Name.Widget, FT=Name.Tx, T=String("f"),
                                  AA=Dictionary(K=_javascript(pdf)))])))),
    "link_launch": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.Launch, F=String("calc.exe")))),
    "link_submit_form": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.SubmitForm, F=String("https://evil.example/")))),
    "link_import_data": lambda: _with(lambda pdf: _annotation(
        pdf, Subtype=Name.Link, A=Dictionary(S=Name.ImportData, F=String("data.fdf")))),
    "rich_media": lambda: _with(lambda pdf: _annotation(pdf, Subtype=Name.RichMedia)),
    "embedded_files": lambda: _with(_embed),
    "xfa_form": lambda: _with(lambda pdf: setattr(pdf.Root, "AcroForm", Dictionary(
        Fields=Array([]), XFA=pdf.make_stream(b"<xdp:xdp/>")))),
    "open_action_uri": lambda: _with(lambda pdf: setattr(pdf.Root, "OpenAction", Dictionary(
        S=Name.URI, URI=String("https://tracker.example/")))),
    "outline_javascript": lambda: _with(lambda pdf: _outline(pdf)),
}


def _outline(pdf):
    item = pdf.make_indirect(Dictionary(Title=String("Go"), A=_javascript(pdf)))
    outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, First=item, Last=item, Count=1))
    item.Parent = outlines
    pdf.Root.Outlines = outlines


def harmless_links_pdf():
    """Ordinary navigation a Word export contains: a go-to outline, an internal link and a web link."""
    def build(pdf):
        page = pdf.pages[0].obj
        _annotation(pdf, Subtype=Name.Link, A=Dictionary(S=Name.URI, URI=String("https://www.iso.org/")))
        page.Annots.append(pdf.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Link, Rect=Array([60, 10, 90, 50]), Dest=Array([page, Name.Fit]))))
        pdf.Root.OpenAction = Array([page, Name.Fit])
    return _with(build)


def upload(data, name="doc.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# --- PDF/A conformance: a structural check ------------------------------------------------------------------
#
# veraPDF (the reference PDF/A validator) is a Java program distributed only from its own site; it is not
# packaged on PyPI, npm or Debian, the registries this project installs from, so the tests cannot run it.
# `pdfa_problems` checks instead, with pikepdf, the PDF/A-2/3 (ISO 19005-2/-3) rules a generator can get
# wrong and that decide whether an archive copy can be read unchanged in decades:
#   - not encrypted (6.1.3), a file identifier in the trailer (6.1.3);
#   - XMP metadata in the catalogue naming the part and conformance level (pdfaid:part, pdfaid:conformance;
#     6.6.4), which must be the ones claimed;
#   - an output intent GTS_PDFA1 with an embedded ICC profile of a matching colour space (6.2.3);
#   - every font used on a page (also in form XObjects and annotation appearances, and the descendant font
#     of a composite font) embedded (6.2.11.4), except Type 3 fonts, which are drawn by the file itself;
#   - no JavaScript anywhere, no forbidden actions (Launch, JavaScript, ImportData, ResetForm, Sound, Movie,
#     Hide, SetOCGState, Rendition, Trans, GoTo3DView: 6.5.1), no additional-actions (/AA) dictionaries on
#     the catalogue, pages or form fields (6.5.2), no LZW compression (6.1.7);
#   - PDF/A-3 only: each embedded file has a file specification with /F, /UF and /AFRelationship, is listed
#     in an /AF array, and its stream names its MIME type (/Subtype) (ISO 19005-3 6.8).
# It is not a full validator (it does not parse content streams or check glyph widths), so a file it passes
# can still fail veraPDF on the finer rules; everything it reports is a real violation.

FORBIDDEN_ACTIONS = {"/Launch", "/JavaScript", "/ImportData", "/ResetForm", "/Sound", "/Movie", "/Hide",
                     "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView"}
_ICC_SPACES = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}


def _open(pdf_or_bytes):
    if isinstance(pdf_or_bytes, pikepdf.Pdf):
        return pdf_or_bytes
    if isinstance(pdf_or_bytes, (bytes, bytearray)):
        return pikepdf.open(io.BytesIO(pdf_or_bytes))
    return pikepdf.open(pdf_or_bytes)


def _fonts_of(resources, seen):
    """(name, font dictionary) of every font reachable from a resources dictionary, forms included."""
    if not isinstance(resources, Dictionary) or resources.objgen in seen and resources.objgen != (0, 0):
        return
    seen.add(resources.objgen)
    for name, font in (resources.get("/Font") or {}).items():
        yield name, font
        for descendant in font.get("/DescendantFonts") or []:
            yield name, descendant
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == Name.Form:
            yield from _fonts_of(xobject.get("/Resources"), seen)


def _annotation_resources(page):
    for annot in page.obj.get("/Annots") or []:
        for appearance in (annot.get("/AP") or {}).values():
            streams = appearance.values() if isinstance(appearance, Dictionary) and not hasattr(
                appearance, "read_bytes") else [appearance]
            for stream in streams:
                if isinstance(stream, pikepdf.Stream):
                    yield stream.get("/Resources")


def _walk(obj, seen):
    """Every dictionary and stream reachable from `obj` (direct ones too), each indirect object once."""
    if isinstance(obj, (Dictionary, pikepdf.Stream, Array)):
        if obj.is_indirect:
            if obj.objgen in seen:
                return
            seen.add(obj.objgen)
        if isinstance(obj, Array):
            for item in obj:
                yield from _walk(item, seen)
            return
        yield obj
        for key in obj.keys():
            if key != "/Parent":
                yield from _walk(obj.get(key), seen)


def pdfa_problems(pdf_or_bytes, part, conformance):
    """What keeps the file from being PDF/A-`part``conformance` (e.g. 3, "B"), as sentences; [] when the
    structural check passes. See the comment above for what is and is not checked."""
    problems = []
    pdf = _open(pdf_or_bytes)
    root = pdf.Root
    if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
        problems.append("encrypted")
    if "/ID" not in pdf.trailer:
        problems.append("no file identifier (/ID) in the trailer")

    if "/Metadata" not in root:
        problems.append("no XMP metadata stream in the catalogue")
    else:
        meta = pdf.open_metadata()
        claimed = (str(meta.get("pdfaid:part", "")), str(meta.get("pdfaid:conformance", "")).upper())
        if claimed != (str(part), conformance.upper()):
            problems.append(f"XMP claims PDF/A-{claimed[0] or '?'}{claimed[1] or '?'}, "
                            f"not PDF/A-{part}{conformance.upper()}")

    intents = [i for i in (root.get("/OutputIntents") or []) if i.get("/S") == Name("/GTS_PDFA1")]
    if not intents:
        problems.append("no GTS_PDFA1 output intent")
    for intent in intents:
        profile = intent.get("/DestOutputProfile")
        if not isinstance(profile, pikepdf.Stream):
            problems.append("the output intent has no embedded ICC profile")
            continue
        icc = profile.read_bytes()
        if icc[36:40] != b"acsp":
            problems.append("the output intent's profile is not an ICC profile")
        elif "/N" in profile and _ICC_SPACES.get(icc[16:20]) not in (None, int(profile.N)):
            problems.append("the output intent's /N does not match its ICC profile's colour space")

    seen = set()
    for number, page in enumerate(pdf.pages, start=1):
        sources = [page.obj.get("/Resources"), *_annotation_resources(page)]
        for resources in sources:
            for name, font in _fonts_of(resources, seen):
                subtype = font.get("/Subtype")
                if subtype in (Name.Type3, Name.Type0):
                    continue  # Type 3 draws its glyphs; a Type 0 is checked through its descendant
                descriptor = font.get("/FontDescriptor")
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2",
                                                                           "/FontFile3")):
                    problems.append(f"font {font.get('/BaseFont', name)} on page {number} is not embedded")
        for holder, where in ((page.obj, f"page {number}"),
                              *((a, f"a form field on page {number}") for a in page.obj.get("/Annots") or []
                                if a.get("/Subtype") == Name.Widget)):
            if "/AA" in holder:
                problems.append(f"additional actions (/AA) on {where}")
    if "/AA" in root:
        problems.append("additional actions (/AA) on the catalogue")
    if "/JavaScript" in (root.get("/Names") or {}):
        problems.append("document-level JavaScript")

    for obj in _walk(pdf.trailer, set()):
        action = obj.get("/S")
        if action is not None and str(action) in FORBIDDEN_ACTIONS and obj.get("/Type", Name.Action) == Name.Action:
            problems.append(f"forbidden action {action}")
        if "/JS" in obj:
            problems.append("JavaScript (/JS)")
        filters = obj.get("/Filter") if isinstance(obj, pikepdf.Stream) else None
        if filters is not None and "/LZWDecode" in [str(f) for f in (
                filters if isinstance(filters, Array) else [filters])]:
            problems.append("LZW-compressed stream")

    embedded = dict(pdf.attachments)
    if embedded and part < 3:
        problems.append(f"PDF/A-{part} allows no embedded files")
    associated = {spec.objgen for spec in root.get("/AF") or []}
    for page in pdf.pages:
        associated |= {spec.objgen for spec in page.obj.get("/AF") or []}
    for filename, spec in embedded.items():
        entries = spec.obj
        for key in ("/F", "/UF", "/AFRelationship"):
            if key not in entries:
                problems.append(f"embedded file {filename} has no {key}")
        if entries.objgen not in associated:
            problems.append(f"embedded file {filename} is not listed in an /AF array")
        stream = (entries.get("/EF") or {}).get("/F")
        if stream is None or "/Subtype" not in stream:
            problems.append(f"embedded file {filename} does not name its MIME type (/Subtype)")
    return problems
