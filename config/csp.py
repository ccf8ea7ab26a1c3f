"""Content-Security-Policy: the policy of every response is set in config/settings/base.py
(django-csp); this module holds the one exception.

An SVG image opened on its own — viewflow's flow charts (/qms/flows/<flow>/chart/, shown in
the pages as <img>, where a document policy does not reach them) — carries one inline <style>
that viewflow renders without the request, so it cannot carry the response's nonce. Such a
response gets a policy of its own, stricter in everything else: no script, no request of
any kind, no frame, no form; only its inline style and data: images."""
from csp.constants import NONE, UNSAFE_INLINE

SVG_IMAGE_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["data:"],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [NONE],
}


class SvgImagePolicyMiddleware:
    """Placed after csp.middleware.CSPMiddleware, which then writes this policy for SVG responses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").split(";")[0].strip() == "image/svg+xml":
            response._csp_config = SVG_IMAGE_POLICY  # django-csp's per-response policy (as its decorators set)
        return response
