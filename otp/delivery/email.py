"""Email delivery through Django's email framework (``EMAIL_URL``: console in
development, SMTP or a django-anymail provider in production).

A message is three templates under ``templates/otp/``:
``<name>_subject.txt``, ``<name>_message.txt`` and, optionally,
``<name>_message.html``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from otp.delivery import Message


def render_email(template: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text body, html body or None) for ``templates/otp/<template>_*``."""
    subject = render_to_string(f"otp/{template}_subject.txt", context)
    # A header cannot span lines (Django refuses it); the template may.
    subject = " ".join(subject.split())
    body = render_to_string(f"otp/{template}_message.txt", context).strip() + "\n"
    try:
        html = render_to_string(f"otp/{template}_message.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, body, html


def build_email(message: Message) -> EmailMultiAlternatives:
    subject, body, html = render_email(message.template, message.context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.destination],
    )
    if html is not None:
        email.attach_alternative(html, "text/html")
    return email


def send_email(message: Message) -> None:
    build_email(message).send(fail_silently=False)
