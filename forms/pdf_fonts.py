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

The record stylesheet names the compact family first and the system face after it
(forms.pdf: the worker's @font-face sheet decides): a character outside the compact set (a rare character in a name) is set in the
system face by Pango's per-character fallback, so nothing is ever lost. Without the built
files (a checkout where `scripts/setup.sh` has not run), or with another face configured in
QMS_PDF_FONT_FAMILY, the records are set in that face alone, as before. A change of the recipe
(`RECIPE`: the blocks, options, names) or of the system font builds the faces again.

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


def characters():
    """The code points of the compact faces: the blocks above and every hanzi of GB 2312."""
    points = {point for first, last in _BLOCKS for point in range(first, last + 1)}
    for high in range(0xA1, 0xF8):  # all of GB 2312: its symbols, pinyin, kana, and the 6,763 hanzi
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return points


#: what a build depends on besides the system font: a change here builds the faces again
RECIPE = hashlib.sha256(json.dumps({"blocks": _BLOCKS, "gb2312": "all", "layout_closure": True,
                                    "notdef_outline": True, "names": [FAMILY, 0, 7, 13, 14], "files": FILES},
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
        partial = target.with_suffix(".partial")
        font.save(partial)
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
