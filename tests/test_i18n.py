"""The Simplified Chinese catalogue (locale/zh_Hans) is complete and current, and the
UI, the forms and the API answer in the language the user asks for.

The catalogue test re-extracts the strings from the current source (makemessages in
a temporary copy of the project, so the working tree is never touched): a developer
who marks a new string without translating it gets a failure listing the msgids.
Fix it with

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var \\
        --ignore=node_modules --ignore=locale_vendor --add-location=file
    # translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po (no "#, fuzzy" left)
    .venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv

viewflow's own zh_Hans catalogue is empty, so its messages (menu, task and process pages) are
translated in locale_vendor/zh_Hans (second in LOCALE_PATHS: ours wins on a clash). That folder is
never extracted into: makemessages gets --ignore=locale_vendor and the completeness check reads
locale/ only.
"""
import ast
import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from api_driver import client_for

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE_DIR = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE_DIR / "django.po"
MO = CATALOGUE_DIR / "django.mo"

# what makemessages reads for the `django` domain, and where it must not look
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
SKIP_DIRS = {".venv", "var", "node_modules", ".git", "__pycache__", "staticfiles", ".pytest_cache", "locale_vendor"}
MAKEMESSAGES = ["makemessages", "-l", "zh_Hans", "--ignore=.venv", "--ignore=var", "--ignore=node_modules",
                "--ignore=locale_vendor", "--add-location=file", "-v", "0"]
VENDOR_DIR = BASE_DIR / "locale_vendor" / "zh_Hans" / "LC_MESSAGES"


# --- a tiny PO reader (no polib dependency) ---------------------------------------------------------


def _unquote(line):
    return ast.literal_eval(line) if line.startswith('"') else ""


def read_po(path):
    """[{msgid, msgid_plural, msgstr: [..], flags: {..}, locations: [..]}] without the header
    and without obsolete (#~) entries."""
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            finish()
            entry, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "locations": [], "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry["locations"] += line[2:].split()
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            field = "msgctxt"
            entry[field] = _unquote(line[8:])
        elif line.startswith("msgid_plural "):
            field = "msgid_plural"
            entry[field] = _unquote(line[13:])
        elif line.startswith("msgid "):
            field = "msgid"
            entry[field] = _unquote(line[6:])
        elif line.startswith("msgstr["):
            index, _, rest = line[7:].partition("] ")
            field = ("msgstr", int(index))
            entry["msgstr"][int(index)] = _unquote(rest)
        elif line.startswith("msgstr "):
            field = ("msgstr", 0)
            entry["msgstr"][0] = _unquote(line[7:])
        elif line.startswith('"') and field is not None:
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field] += _unquote(line)
    finish()
    return [e for e in entries if e["msgid"] != ""]


def describe(entries):
    return "\n".join(f"  {e['msgid']!r}  ({', '.join(e['locations']) or 'no location'})" for e in entries)


def untranslated(entries):
    return [e for e in entries if not e["msgstr"] or any(not s.strip() for s in e["msgstr"].values())]


def fuzzy(entries):
    return [e for e in entries if "fuzzy" in e["flags"]]


def _copy_sources(target):
    """The files makemessages reads (and manage.py + settings to run it), plus the catalogue."""
    for path in BASE_DIR.rglob("*"):
        relative = path.relative_to(BASE_DIR)
        if any(part in SKIP_DIRS for part in relative.parts) or not path.is_file():
            continue
        if path.suffix in SOURCE_SUFFIXES or relative.parts[0] == "locale":
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


# --- the catalogue ---------------------------------------------------------------------------------


def test_the_zh_hans_catalogue_is_complete(tmp_path):
    assert PO.exists(), f"{PO} is missing: run makemessages -l zh_Hans"

    # 1. the committed catalogue: every entry translated, none fuzzy, placeholders consistent
    committed = read_po(PO)
    assert committed, "the zh_Hans catalogue is empty"
    if untranslated(committed):
        pytest.fail("untranslated entries in django.po:\n" + describe(untranslated(committed)), pytrace=False)
    if fuzzy(committed):
        pytest.fail("fuzzy entries in django.po (check the translation, then remove the '#, fuzzy' flag):\n"
                    + describe(fuzzy(committed)), pytrace=False)
    check = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
                           capture_output=True, text=True)
    assert check.returncode == 0, f"msgfmt --check refuses django.po:\n{check.stderr}"
    assert "untranslated" not in check.stderr and "fuzzy" not in check.stderr, check.stderr

    # 2. not stale: re-extract from the current source in a copy of the project
    copy = tmp_path / "project"
    _copy_sources(copy)
    extract = subprocess.run([sys.executable, "manage.py", *MAKEMESSAGES], cwd=copy, capture_output=True,
                             text=True, timeout=300)
    assert extract.returncode == 0, f"makemessages failed:\n{extract.stdout}\n{extract.stderr}"
    fresh = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = untranslated(fresh)
    if missing:
        pytest.fail(f"{len(missing)} source string(s) have no Simplified Chinese translation in "
                    f"{PO.relative_to(BASE_DIR)}; run makemessages and translate them:\n" + describe(missing),
                    pytrace=False)
    changed = fuzzy(fresh)
    if changed:
        pytest.fail(f"{len(changed)} source string(s) changed since they were translated (makemessages marks "
                    "them fuzzy); review their translations:\n" + describe(changed), pytrace=False)

    # 3. the compiled catalogue Django loads is the one of this .po
    assert MO.exists(), f"{MO} is missing: run compilemessages -l zh_Hans"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PO)], check=True)
    with open(compiled, "rb") as expected, open(MO, "rb") as actual:
        stale = gettext.GNUTranslations(expected)._catalog != gettext.GNUTranslations(actual)._catalog
    assert not stale, f"{MO.relative_to(BASE_DIR)} is older than django.po: run compilemessages -l zh_Hans"


def test_viewflow_messages_are_translated_in_locale_vendor(tmp_path):
    """viewflow ships an empty zh_Hans catalogue; ours (locale_vendor) is complete, compiled and
    loaded after locale/ so that the project's own translation wins on a shared msgid."""
    paths = [Path(p) for p in settings.LOCALE_PATHS]
    assert paths[:2] == [BASE_DIR / "locale", BASE_DIR / "locale_vendor"], settings.LOCALE_PATHS
    vendor_po, vendor_mo = VENDOR_DIR / "django.po", VENDOR_DIR / "django.mo"
    entries = read_po(vendor_po)
    assert len(entries) >= 148, "locale_vendor lost viewflow's msgids"
    bad = untranslated(entries) + fuzzy(entries)
    assert not bad, "untranslated or fuzzy entries in locale_vendor:\n" + describe(bad)
    check = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "vendor.mo"), str(vendor_po)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with open(tmp_path / "vendor.mo", "rb") as expected, open(vendor_mo, "rb") as actual:
        assert gettext.GNUTranslations(expected)._catalog == gettext.GNUTranslations(actual)._catalog, \
            f"{vendor_mo.relative_to(BASE_DIR)} is older than its .po: msgfmt -o django.mo django.po"

    from django.utils import translation
    plain, in_context = translation.gettext, translation.pgettext  # aliases: makemessages must not extract these
    with translation.override("zh-hans"):
        assert plain("Inbox") == "待办任务"
        assert plain("Assign and continue") == "认领并继续"
        assert in_context("STATUS", "Done") == "已完成"


# --- the language the user gets ---------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_speak_chinese_by_default_and_english_on_request(people):
    client = Client()
    client.force_login(people["quality"])

    queue = client.get("/qms/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert queue.status_code == 200
    page = queue.content.decode()
    assert "任务队列" in page and "待办任务" in page  # viewflow's menu, from locale_vendor

    # the procedures are listed under /qms/flows/ (one inbox, queue and archive for all of them)
    flows = client.get("/qms/flows/orderreview/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert flows.status_code == 200
    assert "订单/合同评审" in flows.content.decode()  # the procedure's title in the menu and the page

    records = client.get("/qms/records/")  # no Accept-Language at all: LANGUAGE_CODE is zh-hans
    assert records.status_code == 200
    text = records.content.decode()
    assert "受控记录" in text and "全部记录类型" in text
    assert "Controlled records" not in text

    # the language switch of qms/base.html: the choice is remembered and wins over the browser's
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/qms/records/"})
    assert switched.status_code == 302 and switched["Location"] == "/qms/records/"
    english = client.get("/qms/records/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Controlled records" in english and "All record types" in english
    assert "受控记录" not in english

    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/qms/records/"}, follow=True)
    assert "受控记录" in back.content.decode()


@pytest.mark.django_db
def test_api_errors_follow_the_request_language(people):
    api = client_for("market")

    english = api.post("/api/order-reviews/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400, english.content
    body = english.json()
    assert body["detail"] == "Please correct the errors below."
    assert body["errors"]["customer"] == ["This field is required."]

    chinese = api.post("/api/order-reviews/", {"order_number": "PO-I18N-1"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 400, chinese.content
    body = chinese.json()
    assert body["detail"] == "请更正以下错误。"
    assert body["errors"]["customer"] == ["该字段是必填项。"]  # Django's own zh_Hans catalogue
    assert "order_number" not in body["errors"]

    unknown = api.post("/api/order-reviews/", {"customer": "NO-SUCH-CUSTOMER"}, format="json",
                       HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert unknown.json()["errors"]["customer"] == ["客户不存在。"]  # ours (procedures/order_review/forms.py)


@pytest.mark.django_db
def test_step_form_labels_are_translated(people):
    client = Client()
    client.force_login(people["market"])

    response = client.get("/qms/flows/orderreview/start/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    for chinese in ["接收订单/合同", "客户", "订单号/合同号", "订单日期", "付款条件", "产品明细", "交货日期",
                    "添加一行", "提交"]:
        assert chinese in page, f"{chinese!r} missing from the Chinese start form"
    for english in ["Order / contract number", "Order lines", "Add line", "Delivery date"]:
        assert english not in page, f"untranslated {english!r} on the Chinese start form"

    in_english = client.get("/qms/flows/orderreview/start/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Order / contract number" in in_english and "Order lines" in in_english
