"""The production static files storage (config/storage.py, used by config.settings.production):
`collectstatic` succeeds over every installed app's files, the pages find their assets in its
manifest, and only the one known-broken vendor CSS may name missing files."""
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGE = "config.storage.ManifestStaticFilesStorage"


def test_production_settings_use_this_storage_and_persistent_checked_connections(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.delenv("DB_CONN_MAX_AGE", raising=False)
    production = importlib.import_module("config.settings.production")
    production = importlib.reload(production) if "config.settings.production" in sys.modules else production
    assert production.STORAGES["staticfiles"]["BACKEND"] == PRODUCTION_STORAGE
    assert production.DATABASES["default"]["CONN_MAX_AGE"] == 600
    assert production.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.fixture
def collected(settings, tmp_path, monkeypatch):
    """collectstatic with the production storage into a temporary STATIC_ROOT. Compression is
    switched off here to keep the test fast (test_brotli_compression covers it); the manifest
    post-processing, which resolves every url() of every CSS file, runs in full."""
    from whitenoise.compress import Compressor

    from config import storage

    monkeypatch.setattr(storage.ManifestStaticFilesStorage, "create_compressor",
                        lambda self, **kwargs: Compressor(use_gzip=False, use_brotli=False, quiet=True))
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_collectstatic_succeeds_and_the_manifest_names_the_assets_pages_load(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    for name in ("viewflow/fonts/roboto/roboto-fontface.css", "viewflow/css/viewflow.min.css",
                 "viewflow/js/viewflow.min.js", "qms/qms.css", "qms/formset.js", "pdf/record.css",
                 "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "admin/css/base.css"):
        assert (collected / manifest[name]).is_file(), name
    # the font CSS every page loads points at the hashed font files
    fonts_css = (collected / manifest["viewflow/fonts/roboto/roboto-fontface.css"]).read_text()
    assert Path(manifest["viewflow/fonts/roboto/Roboto-Regular.woff2"]).name in fonts_css


def test_pages_render_with_the_manifest_and_link_the_hashed_files(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'/static/{manifest["viewflow/js/viewflow.min.js"]}' in html
    assert '/static/viewflow/js/viewflow.min.js"' not in html


def _collect_one_css(settings, tmp_path, relative_name, css):
    source = tmp_path / "source"
    (source / relative_name).parent.mkdir(parents=True)
    (source / relative_name).write_text(css)
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    call_command("collectstatic", interactive=False, verbosity=0)
    return json.loads((settings.STATIC_ROOT / "staticfiles.json").read_text())["paths"]


BROKEN_CSS = "@font-face { font-family: 'X'; src: url('./Missing.woff2') format('woff2'); }\n"


def test_a_missing_reference_in_our_css_still_fails_the_build(settings, tmp_path):
    from whitenoise.storage import MissingFileError

    with pytest.raises(MissingFileError, match="Missing.woff2"):
        _collect_one_css(settings, tmp_path, "qms/broken.css", BROKEN_CSS)


def test_the_unloaded_vendor_roboto_css_may_name_missing_fonts(settings, tmp_path):
    name = "viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/roboto-fontface.css"
    manifest = _collect_one_css(settings, tmp_path, name, BROKEN_CSS)
    assert (settings.STATIC_ROOT / manifest[name]).read_text() == BROKEN_CSS  # left as shipped


def test_brotli_compression_uses_the_faster_level_and_still_compresses(tmp_path):
    brotli = pytest.importorskip("brotli")
    from config.storage import BROTLI_QUALITY, FasterCompressor

    css = tmp_path / "big.css"
    css.write_text("".join(f".rule-{i} {{ margin: {i}px; color: #{i % 4096:03x}; }}\n" for i in range(5000)))
    written = FasterCompressor(quiet=True).compress(str(css))
    assert sorted(Path(name).suffix for name in written) == [".br", ".gz"]
    compressed = Path(str(css) + ".br").read_bytes()
    assert brotli.decompress(compressed) == css.read_bytes()
    assert compressed == brotli.compress(css.read_bytes(), quality=BROTLI_QUALITY)
    assert len(compressed) < css.stat().st_size / 5
