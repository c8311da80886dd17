"""The bench server's email and SMS backends: the work of a real backend short
of the network, and nothing kept.

The in-memory backends of the tests (``memorymail://`` and
``otp.delivery.sms.OutboxSmsBackend``) append every message to a list that a
long-running server keeps growing (the email one deep-copies each message
first): work and memory no real backend spends, which the bench's
registered-address runs paid for and the unregistered ones did not.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend

from otp.delivery.sms import BaseSmsBackend, SmsMessage


class SinkEmailBackend(BaseEmailBackend):
    """What Django's SMTP backend does with a message before the network:
    build the MIME message and serialise it."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            message.message().as_bytes(linesep="\r\n")
        return len(email_messages)


class SinkSmsBackend(BaseSmsBackend):
    """The text is rendered by the time a backend gets it; a provider's HTTP
    call is all that is left, and it is not made."""

    def send(self, message: SmsMessage) -> None:
        return None
