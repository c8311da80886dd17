"""Spellings an attacker types to reach someone else's account (SPEC §22.1).

Each look-alike names an address that is *not* the victim's, although a
careless comparison (MariaDB's ``utf8mb4_unicode_ci``, Python's ``str.lower``,
Unicode compatibility folding) takes it for the victim's. The suite drives
every one through every endpoint that takes an address and asserts that none
of them reaches the victim's account or sends anything to the victim.

``SAME_ADDRESS`` are spellings of the victim's own address (ASCII case,
separators): they must keep working, so the suite is not passing by
refusing everything.
"""

from __future__ import annotations

VICTIM_EMAIL = "kris.victim@service.example.com"
VICTIM_PHONE = "+919876543210"
VICTIM_USERNAME = "kris"
VICTIM_PASSWORD = "Victim-Owns-This-9"
ATTACKER_PASSWORD = "Attacker-Knows-This-7"

LOOKALIKE_EMAILS = {
    "accent in domain": "kris.victim@sérvice.example.com",
    "accent in second label": "kris.victim@service.exámple.com",
    "combining accent in domain": "kris.victim@se\u0301rvice.example.com",
    "accent in local part": "krís.victim@service.example.com",
    "combining accent in local part": "kri\u0301s.victim@service.example.com",
    "dotless i in local part": "kr\u0131s.victim@service.example.com",
    "dotless i in domain": "kris.victim@serv\u0131ce.example.com",
    "dotted capital I in local part": "KR\u0130S.victim@service.example.com",
    "long s in local part": "kri\u017f.victim@service.example.com",
    "long s in domain": "kris.victim@\u017fervice.example.com",
    "Kelvin sign in local part": "\u212aris.victim@service.example.com",
    "fullwidth letter in local part": "\uff4bris.victim@service.example.com",
    "fullwidth letter in domain": "kris.victim@\uff53ervice.example.com",
    "fullwidth at sign": "kris.victim\uff20service.example.com",
    "zero-width space in local part": "kris.vic\u200btim@service.example.com",
    "zero-width space in domain": "kris.victim@serv\u200bice.example.com",
    "zero-width joiner in domain": "kris.victim@serv\u200dice.example.com",
    "soft hyphen in domain": "kris.victim@serv\u00adice.example.com",
    "Cyrillic e in domain": "kris.victim@servic\u0435.example.com",
    "trailing dot": "kris.victim@service.example.com.",
    "IDN in punycode": "kris.victim@xn--srvice-bva.example.com",
}

SAME_ADDRESS_EMAILS = {
    "mixed case": "Kris.Victim@SERVICE.Example.com",
    "surrounding spaces": "  kris.victim@service.example.com ",
}

LOOKALIKE_PHONES = {
    "fullwidth digits": "+\uff19\uff11\uff19\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff10",
    "Arabic-Indic digits": "+\u0669\u0661\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661\u0660",
    "zero-width space": "+9198765\u200b43210",
    "another number": "+919876543219",
}

SAME_ADDRESS_PHONES = {
    "separators": "+91 98765-43210",
}

LOOKALIKE_USERNAMES = {
    "Kelvin sign": "\u212aris",
    "dotless i": "kr\u0131s",
    "long s": "kri\u017f",
    "fullwidth": "\uff4bris",
    "accent": "krís",
}
