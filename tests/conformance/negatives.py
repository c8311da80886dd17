"""Judge a negative body by what is sent, not by how it was made.

schemathesis labels an example "negative" when it is generated, by breaking
one part of the schema, and its ``negative_data_rejection`` check (ST201)
then fails any 2xx. It does not look again at the body it sends. That body
can still satisfy the whole schema:

- breaking one branch of a ``oneOf`` can land in another. ``date_of_birth``
  is ``oneOf: [an ISO date with a pattern, {"enum": [""]}]`` ("empty means no
  date"); breaking the date's pattern gave ``""``, the sign-up answered 201,
  and the MariaDB fuzz went red on a valid request (schemathesis#4332 reports
  the same gap after shrinking);
- shrinking can remove the only invalid part.

``before_call`` marks a negative body as edited, so schemathesis validates it
against the operation's schema before the request goes out (its own
``revalidate_case_metadata``, the path every hook edit takes). A body the
schema rejects stays negative and ST201 holds for it; a body the schema
accepts is judged as positive (``positive_data_acceptance`` and our checks).
Used by the in-process fuzz (tests/schema) and the CLI's hooks.
"""

from __future__ import annotations

import schemathesis
from schemathesis.core.parameters import ParameterLocation

_registered = False


def _judge_negative_body(context, case, **kwargs) -> None:
    meta = case.meta
    if meta is not None and meta.is_negative_at(ParameterLocation.BODY):
        # Assigning marks the body as edited; schemathesis validates it again.
        case.body = case.body


def register_negative_body_check() -> None:
    """Register the ``before_call`` hook once per process."""
    global _registered
    if not _registered:
        schemathesis.hook("before_call")(_judge_negative_body)
        _registered = True
