"""New-device notices (SPEC §18.4).

A device is known by a keyed hash of its id: for a browser, a long-lived
random cookie the HTML door sets; for the API, the optional ``X-Device-Id``
header, else the user agent. A successful sign-in from a device the account
has not used before sends the account one notice — the device as
``accounts.devices`` describes it, the time and the IP — with a "this wasn't
me" link that ends every session and starts a password reset (the event's
own "this wasn't me", ``accounts.services.account.event_not_me``). No notice
for the sign-in that made the account. ``NOTIFY_NEW_DEVICE`` turns it off.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format

from accounts.devices import device_describe
from accounts.models import KnownDevice, SecurityEvent, User
from accounts.services.events import event_record
from authsite import clock
from authsite.client import ClientInfo
from otp import services as otp

_LINK_SALT = "accounts.new-device.not-me"
# How long the notice's "this wasn't me" link works.
LINK_MAX_AGE = 7 * 24 * 60 * 60


def device_hash(*, user: User, device_id: str) -> str:
    return salted_hmac(
        "authsite.accounts.known-device", f"{user.pk}\x00{device_id}", algorithm="sha256"
    ).hexdigest()


def device_seen(
    *, user: User, device_id: str | None, client: ClientInfo, first_sign_in: bool
) -> bool:
    """Remember the device of a sign-in; tell the account when it is new.
    Returns whether it was new.

    One statement for a known device (its ``last_seen_at``). The first
    sign-in of an account, and the first one after this feature came to an
    account that had no device on record, only records the device: there is
    nothing to compare it with.
    """
    device_id = device_id or client.user_agent or "unknown"
    digest = device_hash(user=user, device_id=device_id[:256])
    now = clock.now()
    row = KnownDevice(user=user, device_hash=digest, first_seen_at=now, last_seen_at=now)
    if first_sign_in:
        KnownDevice.objects.bulk_create([row], ignore_conflicts=True)
        return True
    if KnownDevice.objects.filter(user=user, device_hash=digest).update(last_seen_at=now):
        return False
    had_devices = KnownDevice.objects.filter(user=user).exists()
    # INSERT … ON CONFLICT DO NOTHING (INSERT IGNORE): a concurrent sign-in
    # from the same device may have recorded it a moment ago.
    KnownDevice.objects.bulk_create([row], ignore_conflicts=True)
    if not had_devices or not settings.NOTIFY_NEW_DEVICE:
        return True
    event = event_record(kind=SecurityEvent.NEW_DEVICE_LOGIN, user=user, client=client)
    token = signing.dumps({"u": user.pk, "e": event.pk}, salt=_LINK_SALT)
    address = user.email or user.phone
    if address:
        otp.message_send(
            destination=address,
            template="notice_new_device",
            context={
                "device": device_describe(user_agent=client.user_agent),
                "ip": client.ip or "",
                "when": date_format(now, "DATETIME_FORMAT") + " UTC",
                "not_me_url": settings.SITE_URL
                + reverse("accounts:new_device_not_me", args=[token]),
            },
            user=user,
        )
    return True


def not_me_link_read(token: str) -> tuple[User, int] | None:
    """The account and event a notice's link names, while it is valid."""
    try:
        data = signing.loads(token, salt=_LINK_SALT, max_age=LINK_MAX_AGE)
        user = User.objects.get(pk=data["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist):
        return None
    return user, int(data["e"])
