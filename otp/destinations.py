"""Destinations of codes: channels and masking (for responses, admin, events)."""

from __future__ import annotations

EMAIL = "email"
SMS = "sms"


def channel_for(destination: str) -> str:
    """``email`` for an address, ``sms`` for an E.164 number."""
    return EMAIL if "@" in destination else SMS


def mask_destination(destination: str | None) -> str:
    """``al***@example.com`` / ``+91******3210``: enough for a person to recognise
    their own address, not enough to learn someone else's."""
    if not destination:
        return ""
    if "@" in destination:
        local, _, domain = destination.rpartition("@")
        keep = 1 if len(local) <= 3 else 2
        return f"{local[:keep]}***@{domain}"
    if destination.startswith("+") and len(destination) > 7:
        return destination[:3] + "*" * (len(destination) - 7) + destination[-4:]
    if len(destination) > 4:
        return destination[:1] + "*" * (len(destination) - 3) + destination[-2:]
    return "*" * len(destination)
