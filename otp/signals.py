"""Signals the otp app sends. otp knows nothing of accounts (STYLE.md); apps
that care about what happened here connect receivers.

``delivery_failed``
    Sent when a message (a code or a notice) could not be delivered, after the
    failure is logged and, for a code, recorded on its row.

    ``sender``: ``otp.models.OneTimeCode``. Keyword arguments:

    - ``purpose``: the code's purpose, or ``None`` for a notice sent with
      ``message_send``;
    - ``channel``: ``"email"`` or ``"sms"``;
    - ``destination``: the normalised address (unmasked: mask it before storing);
    - ``user_id``: the code's user id, or ``None``;
    - ``template``: the message template name;
    - ``code_id``: the ``OneTimeCode`` id, or ``None`` for a notice.

    Never carries the code. In ``"thread"`` delivery mode receivers run on a
    delivery worker thread, outside any request (and its transaction).
"""

from django.dispatch import Signal

delivery_failed = Signal()
