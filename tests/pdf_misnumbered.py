"""A PDF with its embedded faces numbered as the compact faces first cut (2026-11-30 to 25b5d99) numbered them:
each glyph's CID not its glyph id. Built from a PDF rendered today by renaming each embedded CID-keyed face's
charset (the glyph order, outlines and widths stay), which is the defect those PDFs carry: poppler, going by
glyph id, draws them as before; Ghostscript and Acrobat, going by CID through the charset, do not."""
import io

import pikepdf
from fontTools.ttLib import TTFont

#: how far each glyph's CID is from its glyph id in the made file
SHIFT = 7


def misnumbered(content: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(content)) as document:
        for obj in document.objects:
            if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != pikepdf.Name.FontDescriptor:
                continue
            program = obj.get("/FontFile3")
            if program is None or program.get("/Subtype") != pikepdf.Name.OpenType:
                continue
            face = TTFont(io.BytesIO(program.read_bytes()), lazy=False)
            top = face["CFF "].cff.topDictIndex[0]
            names = [".notdef"] + [f"cid{gid + SHIFT:05d}" for gid in range(1, len(top.charset))]
            strings = top.CharStrings
            strings.charStrings = {new: strings.charStrings[old] for old, new in zip(top.charset, names)}
            top.charset = names
            out = io.BytesIO()
            face.save(out)
            program.write(out.getvalue())
        result = io.BytesIO()
        document.save(result)
        return result.getvalue()
