"""The ``/.well-known/`` files that tie native apps to this site's passkeys
(SPEC §17): Android's Digital Asset Links (``assetlinks.json``) and Apple's
``apple-app-site-association`` (associated domains, ``webcredentials``),
made from ``WEBAUTHN_ANDROID_APPS`` and ``WEBAUTHN_IOS_APPS``. Not configured:
404, as for any missing file."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _public(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def assetlinks(request: HttpRequest) -> JsonResponse:
    statements = []
    for entry in settings.WEBAUTHN_ANDROID_APPS:
        package, _sep, fingerprint = entry.partition(":")
        if not package or not fingerprint:
            continue
        statements.append(
            {
                "relation": [
                    "delegate_permission/common.handle_all_urls",
                    "delegate_permission/common.get_login_creds",
                ],
                "target": {
                    "namespace": "android_app",
                    "package_name": package.strip(),
                    "sha256_cert_fingerprints": [fingerprint.strip().upper()],
                },
            }
        )
    if not statements:
        raise Http404
    return _public(JsonResponse(statements, safe=False))


@require_GET
def apple_app_site_association(request: HttpRequest) -> JsonResponse:
    apps = [app.strip() for app in settings.WEBAUTHN_IOS_APPS if app.strip()]
    if not apps:
        raise Http404
    return _public(JsonResponse({"webcredentials": {"apps": apps}}))
