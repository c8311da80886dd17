"""DRF's content negotiation, with a shortcut for what API clients send.

Nearly every API request says ``Accept: application/json``, ``*/*`` or
nothing; for those, DRF's ``DefaultContentNegotiation`` parses the header
into media types and ranks them on every request (a twentieth of a
``GET /auth/me``'s CPU; README, "Benchmark"). This answers those three
exactly as DRF does — the first renderer, with its media type — and hands
everything else (other types, parameters, several types, ``?format=``) to
DRF unchanged, so a client that accepts only something else still gets 406.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

_ANY = frozenset({"*/*", "application/json"})


class JsonFirstContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            accept in _ANY
            and not format_suffix
            and renderers
            and (accept == "*/*" or renderers[0].media_type == accept)
            and self.settings.URL_FORMAT_OVERRIDE not in request.GET
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
