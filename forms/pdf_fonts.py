"""The compact CJK faces the record PDFs are set in (issue 15.5).

Noto Sans CJK SC comes as two 19–20 MB font collections of 65,000 glyphs each. WeasyPrint
subsets the face it embeds with HarfBuzz keeping every glyph id up to the highest one used
(RETAIN_GIDS), so a record that uses a few hundred Chinese characters still embedded two
fonts of ~165 KB each — 93 % of a 356 KB record PDF — and spent 0.1 s of every render on it.

`build()` cuts the system's Noto Sans CJK SC (Regular and Bold) down to the characters a
Chinese–English quality record uses: ASCII and the Latin, Greek, punctuation, symbol, box and
full-width blocks, and the 6,763 hanzi of GB 2312, with every glyph its OpenType features reach
(`layout_closure`: the same shaping, so the pages come out pixel-identical). Regular and
Bold each become ~3.6 MB with ~15,000 glyphs; a record PDF shrinks to ~160 KB.

The glyphs of everyday text come first in the cut faces (`glyph_order()`): Latin, Greek,
punctuation, the symbols of specifications (± × ℃ ≤ ① △ ✓) and the full-width forms, then the
3,755 hanzi of GB 2312's first level, each group followed by the glyphs its shaping can give
(ligatures, the localised digits), then everything else in the source's order. Because
WeasyPrint keeps glyph ids, an embedded subset holds a slot (an offset, a charset entry, two
metrics) for every glyph below the highest one used; in the source's order a record's glyphs
were spread over the whole face (highest id ~14,000), ordered so they end near 4,850. Only the
numbering changes: outlines, widths, the glyphs' font dicts and the OpenType tables follow each
glyph (`_reorder`; `build()` checks every glyph against the cut before it keeps the file).

Each glyph's CID is then made its glyph id (`_number_cids`). WeasyPrint writes glyph ids as the
CIDs of the embedded CIDFontType0 font, and a viewer that follows the PDF specification
(Ghostscript; Adobe's) looks a CID up in the embedded CFF's charset: with each glyph keeping the
system face's CID, those viewers drew most hanzi and digits of a record as empty boxes, while
poppler and Chromium, going by glyph id, drew them right. Identical, every viewer draws the same
glyph, and the charset of each subset is one range instead of 2 bytes a slot. The 54 demo
records: 8.27 MB → 4.22 MB of PDF (an order review ~136 KB → ~77 KB), the same pixels (poppler,
100 dpi, 132 pages).

The record stylesheet names the compact family first and the system face after it
(forms.pdf: the worker's @font-face sheet decides): a character outside the compact set (a
rare character in a name) is set in the system face by Pango's per-character fallback, so
nothing is ever lost. Without the built files (a checkout where `scripts/setup.sh` has not
run), or with another face configured in QMS_PDF_FONT_FAMILY, the records are set in that
face alone, as before. A change of the recipe (`RECIPE`: the blocks, options, names) or of the
system font builds the faces again.

Noto Sans CJK is under the SIL Open Font License 1.1 (reserved name: "Source"); the files are
built on the machine from its installed fonts (Debian's fonts-noto-cjk), not shipped in the
repository, and named by a family of their own."""
import hashlib
import json
import subprocess
from pathlib import Path

from django.conf import settings

FAMILY = "QMS Sans CJK SC"
SYSTEM_FAMILY = "Noto Sans CJK SC"
FILES = {"normal": "QMSSansCJKsc-Regular.otf", "bold": "QMSSansCJKsc-Bold.otf"}
_STYLES = {"normal": "Regular", "bold": "Bold"}

_BLOCKS = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x024F),  # Latin-1, Latin Extended-A and -B (customer names, ×, °, ±, µ)
    (0x0370, 0x03FF),  # Greek (tolerances, Ω, μ)
    (0x2000, 0x206F),  # general punctuation (– — ‘ ’ “ ” … ‰)
    (0x2070, 0x20CF),  # superscripts and subscripts, currency symbols (€ ₩)
    (0x2100, 0x22FF),  # letterlike symbols, number forms, arrows, mathematical operators (℃ № → ≤ ≥)
    (0x2460, 0x27BF),  # enclosed numbers, box drawing, shapes, symbols, dingbats (① ■ □ ▲ ● ☐ ☑ ✓)
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。〈〉《》「」【】)
    (0x3200, 0x33FF),  # enclosed CJK and CJK compatibility (㈠ ㎜ ㎏)
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width and half-width forms (，：；（）)
]


def _gb2312(first_row, last_row):
    """The characters of GB 2312's rows `first_row`..`last_row` (lead bytes 0xA1.. = row 1..), in its order."""
    points = []
    for high in range(0xA0 + first_row, 0xA0 + last_row + 1):
        for low in range(0xA1, 0xFF):
            try:
                points.append(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return points


#: the characters whose glyphs come first in the compact faces, group by group (see the module docstring):
#: Latin, Greek, punctuation, the symbols of specifications and the full-width forms, then GB 2312 level 1
FIRST = (
    [*range(0x0020, 0x007F), *range(0x00A0, 0x0250), *range(0x0370, 0x0400), *range(0x2000, 0x2300),
     *range(0x2460, 0x2500), *range(0x25A0, 0x27C0), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0)],
    _gb2312(16, 55),  # the 3,755 common hanzi (by pinyin)
)

def characters():
    """The code points of the compact faces: the blocks above and every hanzi of GB 2312."""
    points = {point for first, last in _BLOCKS for point in range(first, last + 1)}
    points.update(_gb2312(1, 87))  # all of GB 2312: its symbols, pinyin, kana, and the 6,763 hanzi
    return points


def glyph_order(font, shaped):
    """`font`'s glyphs with those of each group of `FIRST` first (after .notdef), each group's characters followed by
    the other glyphs their shaping can give (`shaped(group)`: ligatures, localised digits); the rest keep their
    present order."""
    present = font.getGlyphOrder()
    cmap = font.getBestCmap()
    order = [present[0]]
    for group in FIRST:
        order += [cmap[point] for point in group if point in cmap]
        reached = shaped(group)
        order += [name for name in present if name in reached]
    order = list(dict.fromkeys(order))  # a glyph two characters share keeps its first place
    placed = set(order)
    return order + [name for name in present if name not in placed]


def _shaped(path, points):
    """The glyphs of `path`'s face that Simplified Chinese text in `points` can be shaped to: each character's own
    glyph and what the OpenType features of the default and ZHS language systems substitute for it — not the
    Japanese, Korean and Traditional forms that `locl` gives other languages (several thousand hanzi). fontTools'
    layout closure, on a copy whose GSUB keeps only those language systems."""
    from fontTools import subset  # noqa: PLC0415 — a build-time tool
    from fontTools.ttLib import TTFont  # noqa: PLC0415

    font = TTFont(path, lazy=False)
    for record in font["GSUB"].table.ScriptList.ScriptRecord:
        record.Script.LangSysRecord = [lang for lang in record.Script.LangSysRecord if lang.LangSysTag == "ZHS "]
        record.Script.LangSysCount = len(record.Script.LangSysRecord)
    options = subset.Options()
    options.layout_closure = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    return set(font.getGlyphOrder())


def _reorder(font, order):
    """Renumber `font`'s glyphs in `order`. fontTools' `reorderGlyphs` renames the CFF charset and remaps the
    OpenType tables but keeps each charstring's index, which in a CID-keyed face (Noto CJK: one font dict per
    script, each with its own subroutines and widths) would hand a glyph another glyph's outline and font dict;
    so the charstrings and their FDSelect entries are put in the new order here."""
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs  # noqa: PLC0415 — a build-time tool

    top = font["CFF "].cff.topDictIndex[0]
    charstrings = top.CharStrings
    old = dict(charstrings.charStrings)  # glyph name -> index of its charstring (read from a file: indexed)
    items = [charstrings.charStringsIndex[old[name]] for name in order]  # each keeps its font dict's Private
    selectors = [top.FDSelect.gidArray[old[name]] for name in order] if hasattr(top, "FDSelect") else None
    reorderGlyphs(font, order)
    charstrings.charStringsIndex.items = items
    charstrings.charStrings = {name: index for index, name in enumerate(order)}
    if selectors is not None:
        top.FDSelect.gidArray = selectors
        top.FDSelect.format = None  # the smallest encoding for the new runs


def _number_cids(path):
    """`path`'s face (reordered) with each glyph's CID equal to its glyph id: its glyphs are renamed cid00001…
    in glyph-id order before any table is read (the tables name glyphs by id in the file, so they follow), and
    the CFF charset and charstrings are renamed to match. A PDF viewer finds a CID-keyed glyph by its CID
    through the charset, and WeasyPrint writes glyph ids as CIDs: equal, every viewer draws the same glyph,
    and the charset of each embedded subset is a single range (2 bytes a glyph less)."""
    from fontTools.ttLib import TTFont  # noqa: PLC0415 — a build-time tool

    font = TTFont(path, lazy=True)
    count = font["maxp"].numGlyphs
    names = [".notdef"] + [f"cid{gid:05d}" for gid in range(1, count)]
    font.setGlyphOrder(names)
    top = font["CFF "].cff.topDictIndex[0]
    top.charset = list(names)
    top.CharStrings.charStrings = dict(zip(names, range(count)))
    font.ensureDecompiled()
    return font


def _same_glyphs(before, after, order):
    """The glyph ids of `after` whose outline, advance or font dict differ from those of the glyph of `before`
    that `order` puts there (none, after `_reorder` and `_number_cids`), and whether the character maps give
    each character the same glyph."""
    from fontTools.pens.recordingPen import RecordingPen  # noqa: PLC0415 — a build-time tool

    glyphs_before, glyphs_after = before.getGlyphSet(), after.getGlyphSet()
    top_before, top_after = before["CFF "].cff.topDictIndex[0], after["CFF "].cff.topDictIndex[0]
    names_after = after.getGlyphOrder()
    differing = []
    for gid, (name, renamed) in enumerate(zip(order, names_after, strict=True)):
        pens = RecordingPen(), RecordingPen()
        glyphs_before[name].draw(pens[0])
        glyphs_after[renamed].draw(pens[1])
        if (pens[0].value != pens[1].value or glyphs_before[name].width != glyphs_after[renamed].width
                or top_before.CharStrings.getItemAndSelector(name)[1]
                != top_after.CharStrings.getItemAndSelector(renamed)[1]):
            differing.append(gid)
    position = {name: gid for gid, name in enumerate(order)}
    same_cmap = ({point: position[name] for point, name in before.getBestCmap().items()}
                 == {point: after.getGlyphID(name) for point, name in after.getBestCmap().items()})
    return differing, same_cmap


#: what a build depends on besides the system font: a change here builds the faces again
RECIPE = hashlib.sha256(json.dumps({"blocks": _BLOCKS, "gb2312": "all", "layout_closure": True, "first": FIRST,
                                    "shaped": "ZHS", "cid": "gid", "notdef_outline": True,
                                    "names": [FAMILY, 0, 7, 13, 14], "files": FILES},
                                   sort_keys=True).encode()).hexdigest()[:16]


def directory():
    return Path(settings.QMS["PDF_FONTS_DIR"]).resolve()


def built():
    """{"normal": path, "bold": path} of the compact faces, or {} while they are not both built."""
    paths = {weight: directory() / name for weight, name in FILES.items()}
    return paths if all(path.is_file() for path in paths.values()) else {}


def faces():
    """The compact faces to set the records in: the built ones, when the records' face is the one they were
    cut from (settings.QMS["PDF_FONT_FAMILY"]; another configured face is used alone, as set)."""
    return built() if settings.QMS["PDF_FONT_FAMILY"] == SYSTEM_FAMILY else {}


def system_font(style):
    """(file, index in its collection) of the installed Noto Sans CJK SC in `style`, from fontconfig."""
    found = subprocess.run(["fc-match", "--format=%{file}\n%{index}\n%{family}",
                            f"{SYSTEM_FAMILY}:style={style}"], capture_output=True, text=True, check=True)
    path, index, family = (found.stdout.split("\n") + ["", "", ""])[:3]
    if SYSTEM_FAMILY not in family.split(","):
        raise FileNotFoundError(f"{SYSTEM_FAMILY} {style} is not installed (fc-match found {family!r}); "
                                "install fonts-noto-cjk (scripts/install-system-packages.sh)")
    return Path(path), int(index or 0)


def build(*, force=False, log=print):
    """Build the compact faces into `directory()` (each file written whole, then renamed into place).
    Skipped for a face already built from the same system font unless `force`. Returns the paths."""
    from fontTools import subset  # noqa: PLC0415 — a build-time tool (WeasyPrint's own dependency)
    from fontTools.ttLib import TTFont  # noqa: PLC0415

    directory().mkdir(parents=True, exist_ok=True)
    wanted = characters()
    paths = {}
    for weight, name in FILES.items():
        source, index = system_font(_STYLES[weight])
        target = directory() / name
        stamp = target.with_suffix(".recipe")
        made_from = f"{RECIPE} {source} #{index} {source.stat().st_mtime_ns}"
        paths[weight] = target
        if target.is_file() and not force and stamp.is_file() and stamp.read_text() == made_from:
            continue
        font = TTFont(source, fontNumber=index, lazy=False)
        options = subset.Options()
        options.layout_closure = True  # every glyph the kept characters' OpenType features reach
        options.notdef_outline = True
        options.name_IDs = [0, 7, 13, 14]  # copyright, trademark, the licence and its address stay; names set below
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(font)
        _rename(font, _STYLES[weight])
        cut = target.with_suffix(".cut")
        font.save(cut)  # in the source's order: what the reordered face is checked against
        font = TTFont(cut, lazy=False)
        order = glyph_order(font, lambda points: _shaped(cut, points))
        _reorder(font, order)
        partial = target.with_suffix(".partial")
        font.save(partial)
        font = _number_cids(partial)
        font.save(partial)
        differing, same_cmap = _same_glyphs(TTFont(cut), TTFont(partial), order)
        if differing or not same_cmap:
            raise RuntimeError(f"{target.name}: renumbering changed {len(differing)} glyphs "
                               f"({differing[:5]}), character map {'kept' if same_cmap else 'changed'}")
        cut.unlink()
        partial.replace(target)
        stamp.write_text(made_from)
        log(f"{target}: {len(font.getGlyphOrder()):,} glyphs, {target.stat().st_size / 1e6:.1f} MB "
            f"(from {source.name} #{index})")
    return paths


def _rename(font, style):
    """Name the face by a family of its own; its copyright and licence records (OFL 1.1) are kept."""
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = {1: FAMILY, 2: style, 3: f"{postscript};compact subset of {SYSTEM_FAMILY}", 4: f"{FAMILY} {style}",
             6: postscript, 16: FAMILY, 17: style}
    table = font["name"]
    table.names = [record for record in table.names if record.nameID not in names]
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        for key in ("FullName", "FamilyName"):
            if hasattr(top, key):
                setattr(top, key, FAMILY if key == "FamilyName" else f"{FAMILY} {style}")


def misnumbered_faces(source) -> list[str]:
    """The embedded CID-keyed faces of the PDF `source` (a path or a binary file) whose CIDs are not their glyph
    ids: the faces of the PDFs rendered between 2026-11-30 and the change that numbered each glyph by its id
    (`_number_cids`). WeasyPrint writes glyph ids as CIDs; a viewer that follows the PDF specification
    (Ghostscript, Acrobat) finds a glyph by its CID through the face's CFF charset, so with any other numbering
    it draws other glyphs or empty boxes, while poppler and the browsers, going by glyph id, draw the page right.
    Returns the faces' PostScript names (empty when every face reads right); raises ValueError for a file that
    is not a readable PDF."""
    import io  # noqa: PLC0415 — a check run on demand (evidence.renditions), not on every render

    import pikepdf  # noqa: PLC0415
    from fontTools.cffLib import CFFFontSet  # noqa: PLC0415
    from fontTools.ttLib import TTFont  # noqa: PLC0415

    try:
        document = pikepdf.open(source)
    except (pikepdf.PdfError, OSError) as exc:
        raise ValueError(f"not a readable PDF: {exc}") from exc
    names = []
    with document:
        for obj in document.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != pikepdf.Name.FontDescriptor:
                continue
            program = obj.get("/FontFile3")
            if program is None:
                continue
            if program.get("/Subtype") == pikepdf.Name.OpenType:  # what WeasyPrint embeds: the subset as OpenType
                face = TTFont(io.BytesIO(program.read_bytes()))
                if "CFF " not in face:
                    continue
                top = face["CFF "].cff.topDictIndex[0]
            elif program.get("/Subtype") == pikepdf.Name.CIDFontType0C:  # a bare CFF
                cff = CFFFontSet()
                cff.decompile(io.BytesIO(program.read_bytes()), None)
                top = cff.topDictIndex[0]
            else:
                continue
            if not hasattr(top, "ROS"):  # not CID-keyed: glyphs are found by name, not by CID
                continue
            if any(name != f"cid{gid:05d}" for gid, name in enumerate(top.charset) if gid):
                names.append(str(obj.get("/FontName", "")).lstrip("/"))
    return sorted(set(names))
