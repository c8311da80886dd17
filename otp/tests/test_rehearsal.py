"""An address that gets no code still costs the same delivery work (SPEC §14 rule 2)."""

import pytest
from django.core import mail
from django.test.signals import template_rendered

from otp import services as otp

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered():
    names: list[str] = []

    def record(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


@pytest.mark.parametrize("destination", ["known@example.com", "+919876543210"])
def test_an_undelivered_code_renders_the_same_templates_and_sends_nothing(
    django_capture_on_commit_callbacks, rendered, sms_outbox, destination
):
    with django_capture_on_commit_callbacks(execute=True):
        otp.otp_issue(purpose=otp.PASSWORD_RESET, destination=destination)
    delivered = list(rendered)
    sent = len(mail.outbox) + len(sms_outbox)
    assert sent == 1
    rendered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        other = "other@example.com" if "@" in destination else "+919876543211"
        otp.otp_issue(purpose=otp.PASSWORD_RESET, destination=other, deliver=False)
    assert rendered == delivered  # the same templates, rendered on the same path
    assert len(mail.outbox) + len(sms_outbox) == sent  # …and nothing more sent
