"""Readable devices (SPEC §18.5): "Chrome on Android" from a user agent.

The devices page, the activity page, the API's session list and the admin
describe a device with ``device_describe``; the raw user agent stays beside
it where a person may need it (the API's ``user_agent``, the admin, and the
pages for an agent nothing is known about).

Parsing is ua-parser's (uap-core's rules). It costs about a millisecond per
new agent and a list runs it per row, so results are cached per agent; the
cache holds names, not text in a language, so the description is translated
on each call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import ua_parser
from django.utils.translation import gettext as _

# Longer agents are cut before parsing: what names a browser is near the
# start, and a long header should not cost the regular expressions more.
_PARSE_LIMIT = 512
_NAME_LIMIT = 40

# uap-core tells the mobile build of a browser apart ("Chrome Mobile iOS");
# a person knows the browser by its plain name.
# An app: its embedded web view, or its own HTTP stack naming only the
# system. Named in the reader's language by ``device_describe``.
APP = "app"
_BROWSERS = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": APP,
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": APP,
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "HeadlessChrome": "Headless Chrome",
}
_SYSTEMS = {
    "Mac OS X": "macOS",
    "Chrome OS": "ChromeOS",
}


class DeviceParts(NamedTuple):
    browser: str | None  # a browser or an HTTP client ("Chrome", "okhttp")
    system: str | None  # an operating system ("Android", "Windows")


def _short(name: str | None) -> str | None:
    if not name or name == "Other":
        return None
    name = " ".join(name.split())
    return name if len(name) <= _NAME_LIMIT else name[: _NAME_LIMIT - 1] + "…"


@lru_cache(maxsize=2048)
def device_parts(user_agent: str) -> DeviceParts:
    """The browser (or client) and the operating system named by a user
    agent, each ``None`` when ua-parser does not recognise it."""
    agent = (user_agent or "").strip()[:_PARSE_LIMIT]
    if not agent:
        return DeviceParts(None, None)
    parsed = ua_parser.parse(agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    browser = _short(_BROWSERS.get(browser, browser))
    system = _short(_SYSTEMS.get(system, system))
    if browser is not None and browser == system:
        # Android's own HTTP stack ("Dalvik/2.1.0 (Linux; U; Android 13 …)"),
        # which apps use, is named after the system.
        browser = APP
    return DeviceParts(browser, system)


def device_recognised(*, user_agent: str | None) -> bool:
    """Whether ``device_describe`` says more than "Unknown device"."""
    return device_parts(user_agent or "") != (None, None)


def device_describe(*, user_agent: str | None) -> str:
    """A short description of the device behind a user agent: "Chrome on
    Android", "Safari on iOS", "App on iOS"; an HTTP client by its name
    ("okhttp", "curl");
    "Unknown device" when nothing in it is recognised (translated)."""
    browser, system = device_parts(user_agent or "")
    if browser == APP:
        browser = _("App")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser:
        return browser
    if system:
        return _("%(system)s device") % {"system": system}
    return _("Unknown device")
