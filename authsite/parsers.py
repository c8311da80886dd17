"""The API's JSON parser: DRF's, minus the inputs that parse but cannot be
stored or sent back (each used to end in a 500 somewhere down the line)."""

from __future__ import annotations

import codecs
import json
import math
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# MariaDB refuses JSON documents nested deeper than 32 levels; no client of
# ours needs more than a handful.
MAX_JSON_DEPTH = 32


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


# Python refuses to read an integer of more than 4,300 digits, and says so
# in words about its own internals (sys.set_int_max_str_digits); no value
# of ours is near this.
MAX_INT_DIGITS = 100


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError("number out of range")
    return int(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_json_value(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why ``value`` cannot be stored, or None. Walked without recursion,
    since the nesting is the client's choice."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("Text holds an invalid character (a lone surrogate).")
        elif isinstance(item, float) and not math.isfinite(item):
            return _("A number is out of range.")
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return _("The JSON is nested more than %(limit)d levels.") % {"limit": max_depth}
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            decoded = codecs.getreader(encoding)(stream)
            data = json.load(
                decoded,
                parse_float=_finite_float,
                parse_int=_bounded_int,
                parse_constant=_reject_constant,
            )
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(detail)s") % {"detail": exc}) from None
        problem = check_json_value(data)
        if problem:
            raise ParseError(problem)
        return data
