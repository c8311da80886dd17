"""SMS delivery through a pluggable backend, chosen by the dotted path in
``settings.SMS_BACKEND``:

- ``ConsoleSmsBackend`` (default): prints the text to stdout. The development
  delivery, and the only place a code may ever be written out.
- ``OutboxSmsBackend``: appends to the module-level ``outbox`` list, like
  ``django.core.mail.outbox`` (the test settings use it).
- ``TwilioSmsBackend``: Twilio's REST API.

A backend is a class with ``send(message: SmsMessage) -> None`` that raises
``SmsDeliveryError`` (or any exception) when the message was not accepted.
The text comes from ``templates/otp/<name>_sms.txt``; code texts end with the
WebOTP line ``@<SITE_DOMAIN> #<code>`` so phone browsers can fill the code in.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from otp.conf import app_settings
from otp.delivery import DeliveryError

if TYPE_CHECKING:
    from otp.delivery import Message


class SmsDeliveryError(DeliveryError):
    pass


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164
    body: str


# Messages "sent" by OutboxSmsBackend, oldest first (cleared by the test fixtures).
outbox: list[SmsMessage] = []


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development delivery: the text, code included, goes to stdout."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> None:
        rule = "-" * 60
        self.stream.write(f"SMS to {message.to}\n{message.body}\n{rule}\n")
        self.stream.flush()


class OutboxSmsBackend(BaseSmsBackend):
    """Keeps messages in ``otp.delivery.sms.outbox`` (tests)."""

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


class TwilioSmsBackend(BaseSmsBackend):
    """Twilio Programmable Messaging: ``POST /2010-04-01/Accounts/<sid>/Messages.json``.

    Form-encoded ``To``, ``From``, ``Body``; HTTP basic auth with the account
    SID and auth token; ``TWILIO_TIMEOUT`` seconds at most. A non-2xx answer or
    a network error raises ``SmsDeliveryError`` naming the HTTP status and
    Twilio's error number, never the body (which holds the code).
    """

    def __init__(self) -> None:
        self.account_sid = app_settings.TWILIO_ACCOUNT_SID
        self.auth_token = app_settings.TWILIO_AUTH_TOKEN
        self.from_number = app_settings.TWILIO_FROM_NUMBER
        self.api_base = app_settings.TWILIO_API_BASE
        self.timeout = app_settings.TWILIO_TIMEOUT
        if not (self.account_sid and self.auth_token and self.from_number):
            raise ImproperlyConfigured(
                "TwilioSmsBackend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER."
            )
        if not self.api_base.startswith(("https://", "http://")):
            raise ImproperlyConfigured("TWILIO_API_BASE must be an http(s) URL.")

    @property
    def url(self) -> str:
        sid = quote(self.account_sid, safe="")
        return f"{self.api_base}/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, message: SmsMessage) -> None:
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        # The scheme is checked in __init__ (http/https only).
        request = Request(  # noqa: S310
            self.url,
            data=urlencode(
                {"To": message.to, "From": self.from_number, "Body": message.body}
            ).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except HTTPError as exc:
            raise SmsDeliveryError(
                f"Twilio answered HTTP {exc.code}{_twilio_error_number(exc)}"
            ) from None
        except (URLError, OSError) as exc:  # refused, DNS, TLS, timeout
            reason = getattr(exc, "reason", exc)
            raise SmsDeliveryError(f"Twilio could not be reached: {reason}") from None
        if not 200 <= status < 300:
            raise SmsDeliveryError(f"Twilio answered HTTP {status}")


def _twilio_error_number(exc: HTTPError) -> str:
    """`` (error 21211)`` from Twilio's JSON error body, when there is one.

    Only the number: Twilio's message text can quote the phone number or body.
    """
    try:
        payload = json.loads(exc.read(65536) or b"{}")
    except (ValueError, OSError):
        return ""
    number = payload.get("code") if isinstance(payload, dict) else None
    return f" (error {int(number)})" if isinstance(number, int) else ""


def get_sms_backend() -> BaseSmsBackend:
    return import_string(app_settings.SMS_BACKEND)()


def render_sms(template: str, context: dict) -> str:
    """The text of ``templates/otp/<template>_sms.txt``, trimmed."""
    return render_to_string(f"otp/{template}_sms.txt", context).strip()


def send_sms(message: Message) -> None:
    body = render_sms(message.template, message.context)
    get_sms_backend().send(SmsMessage(to=message.destination, body=body))
