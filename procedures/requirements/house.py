"""The house of quality's version data (its snapshot, rebuilt by verify_audit) and its
drawing as a grid for the page and the PDF. Read by records.py (the record type) and by the
house's actions (qfd.py); imports neither."""
from core.models import Signature

from . import analysis
from .models import HouseStatus, QfdCorrelation, QfdRelationship, Strength

APPROVE_STEP = "qfd_approve"  # the step name of an approval's signature


# --- the version's data --------------------------------------------------------------------------------


def importance_rows(needs, characteristics, cells):
    """analysis.qfd_importance over the working rows: `needs` [(text, weight)], `characteristics`
    [name], `cells` {(need text, characteristic name): strength}."""
    return analysis.qfd_importance(dict(needs), list(characteristics), dict(cells))


def house_snapshot(house, *, approver=None):
    """The house's version data: rows, columns, cells and roof by position (1…), the technical
    importance, relative share (percent, one decimal) and rank of each characteristic, and who
    approved it (while approved: the signer of the approval)."""
    needs = list(house.needs.select_related("requirement__record").order_by("position"))
    columns = list(house.characteristics.order_by("position"))
    need_pos = {n.pk: n.position for n in needs}
    col_pos = {c.pk: c.position for c in columns}
    cells = sorted(QfdRelationship.objects.filter(need__house=house).values_list("need_id", "characteristic_id",
                                                                                "strength"),
                   key=lambda c: (need_pos[c[0]], col_pos[c[1]]))
    roof = sorted(QfdCorrelation.objects.filter(first__house=house).values_list("first_id", "second_id",
                                                                                "correlation"),
                  key=lambda c: (col_pos[c[0]], col_pos[c[1]]))
    text_of = {n.pk: n.text for n in needs}
    name_of = {c.pk: c.name for c in columns}
    rows = importance_rows([(n.text, n.weight) for n in needs], [c.name for c in columns],
                           {(text_of[n], name_of[c]): s for n, c, s in cells})
    if approver is None and house.status == HouseStatus.APPROVED:
        approval = (Signature.objects.filter(record_version__record_id=house.record_id, step=APPROVE_STEP)
                    .order_by("-signed_at", "-pk").first())
        approver = approval.printed_name if approval else ""
    return {
        "record_number": house.record.number, "title": house.title,
        "product_code": house.product.code if house.product_id else "", "product": house.product_text,
        "status": house.status,
        "needs": [{"position": n.position, "text": n.text, "weight": n.weight,
                   "requirement": n.requirement.record.number if n.requirement_id else ""} for n in needs],
        "characteristics": [{"position": c.position, "name": c.name, "unit": c.unit, "direction": c.direction,
                             "target": c.target} for c in columns],
        "relationships": [{"need": need_pos[n], "characteristic": col_pos[c], "strength": s} for n, c, s in cells],
        "roof": [{"first": col_pos[a], "second": col_pos[b], "correlation": k} for a, b, k in roof],
        "importance": [{"characteristic": r.characteristic, "importance": r.importance,
                        "relative": f"{r.relative * 100:.1f}", "rank": r.rank} for r in rows],
        "approver": approver or "",
    }


# --- the house drawn as a grid (the page, the PDF) ---------------------------------------------------------


def symbol_of(strength):
    """●, ○ or △: the last word of the strength's label (Strength)."""
    try:
        return Strength(str(strength)).en.split()[-1]
    except ValueError:
        return ""


def grid(data):
    """The version data (or house_snapshot) laid out for a table: rows with a cell per column
    (strength, symbol), the columns with their technical importance, relative share and rank,
    and the roof as a triangle (row i: the cells of columns after i) and as a list."""
    columns = data.get("characteristics", [])
    cells = {(c["need"], c["characteristic"]): c["strength"] for c in data.get("relationships", [])}
    by_name = {r["characteristic"]: r for r in data.get("importance", [])}
    roof = {(r["first"], r["second"]): r["correlation"] for r in data.get("roof", [])}
    name_at = {c["position"]: c["name"] for c in columns}
    rows = [{**need, "cells": [{"strength": cells.get((need["position"], c["position"])),
                                "symbol": symbol_of(cells.get((need["position"], c["position"])))}
                               for c in columns]} for need in data.get("needs", [])]
    cols = [{**c, **{k: by_name.get(c["name"], {}).get(k) for k in ("importance", "relative", "rank")}}
            for c in columns]
    triangle = [{"name": c["name"], "position": c["position"], "pad": range(i),
                 "cells": [roof.get((c["position"], other["position"]), "") for other in columns[i + 1:]]}
                for i, c in enumerate(columns[:-1])]
    pairs = [{"first": name_at.get(a, a), "second": name_at.get(b, b), "correlation": k} for (a, b), k in roof.items()]
    return {"rows": rows, "columns": cols, "triangle": triangle, "roof_pairs": pairs,
            "wide": len(columns) > 6}


def pdf_context(version):
    return grid(version.data)
