"""Static files storage for production: WhiteNoise's compressed, hashed manifest storage,
with one narrow tolerance for a vendor file that no page loads, and a faster Brotli level.

viewflow 2.4 ships the npm build folder of the Roboto font next to the font it really uses:
`viewflow/fonts/roboto/roboto-fontface.css` (loaded by every page) sits beside its font
files and is complete, but `viewflow/fonts/roboto/node_modules/roboto-fontface/css/roboto/
roboto-fontface.css` names `./Roboto-*.woff2` files that live in `../../fonts/roboto/`, not
beside it. The manifest storage resolves every `url()` of every CSS file it collects and
stops `collectstatic` with MissingFileError on the first unresolved one, so without this
the production settings could not be deployed (and without a manifest every page is a 500).

Why a storage subclass rather than a corrected copy of that CSS in our static/ folder: the
copy would freeze a vendor file in our tree under a `node_modules/` path and silently go
stale on a viewflow upgrade; here the vendor file stays as shipped, the tolerance names the
exact folder, and any other missing reference — ours, or a vendor file a page does load —
still fails the build.

Brotli level 9 rather than WhiteNoise's default 11: the vendor packages bring ~55 MB of
CSS/JS (viewflow alone ships plotly's), which level 11 takes minutes of CPU to compress on
every deployment; level 9 is ~25 times faster and its files ~10 % larger (still ~10 %
smaller than gzip -9, which WhiteNoise also writes).
"""
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Folders of vendor CSS whose url() references are known to point nowhere, and that no page loads.
UNLOADED_VENDOR_CSS = (
    "viewflow/fonts/roboto/node_modules/",
)


BROTLI_QUALITY = 9


class FasterCompressor(Compressor):
    @staticmethod
    def compress_brotli(data):  # called only when the brotli module is installed (WhiteNoise checks)
        import brotli

        return brotli.compress(data, quality=BROTLI_QUALITY)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    tolerate_missing_references_in = UNLOADED_VENDOR_CSS

    def create_compressor(self, **kwargs):
        return FasterCompressor(**kwargs)

    def url_converter(self, name, hashed_files, template=None):
        converter = super().url_converter(name, hashed_files, template)
        if not name.replace("\\", "/").startswith(self.tolerate_missing_references_in):
            return converter

        def tolerant_converter(matchobj):
            try:
                return converter(matchobj)
            except ValueError:  # "The file ... could not be found": keep the reference as written
                return matchobj.group(0)

        return tolerant_converter
