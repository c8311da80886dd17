"""SPEC §21: every shipped language is complete — no untranslated or fuzzy
entry — and its catalogue is current with the source (a string added to the
code or a template without its translation fails here)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
SOURCES = ("accounts", "authsite", "otp", "profiles", "templates", "locale", "manage.py")
IGNORED = ("__pycache__", "tests", "*.mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def _text(lines: list[str]) -> str:
    """A .po string, possibly over several quoted lines (C escapes, as Python's)."""
    return "".join(ast.literal_eval(line.strip()) for line in lines)


def _fields(block: str) -> tuple[set[str], list[tuple[str, list[str]]]]:
    """An entry's flags and its (keyword, quoted lines) pairs."""
    flags: set[str] = set()
    fields: list[tuple[str, list[str]]] = []
    for line in block.strip().splitlines():
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith('"') and fields:
            fields[-1][1].append(line)
        elif line and not line.startswith("#"):
            keyword, _space, rest = line.partition(" ")
            fields.append((keyword, [rest]))
    return flags, fields


def entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr(s), flags."""
    found = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        flags, fields = _fields(block)
        entry: dict = {"flags": flags, "msgstr": []}
        for keyword, lines in fields:
            if keyword.startswith("msgstr"):
                entry["msgstr"].append(_text(lines))
            else:
                entry[keyword] = _text(lines)
        if entry.get("msgid"):
            found.append(entry)
    return found


def problems(path: Path) -> list[str]:
    wrong = []
    for entry in entries(path):
        name = entry["msgid"][:60]
        if "fuzzy" in entry["flags"]:
            wrong.append(f"fuzzy: {name}")
        elif not entry["msgstr"] or not all(entry["msgstr"]):
            wrong.append(f"untranslated: {name}")
        else:
            sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
            for index, translated in enumerate(entry["msgstr"]):
                source = sources[min(index, 1)]
                if sorted(PLACEHOLDER.findall(translated)) != sorted(
                    PLACEHOLDER.findall(source)
                ) and not (index == 0 and "msgid_plural" in entry):
                    wrong.append(f"placeholders differ: {name}")
    return wrong


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_catalogue_is_complete(language):
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"no catalogue for {language}"
    assert len(entries(path)) > 500
    assert problems(path) == []


def test_the_parser_sees_what_is_missing(tmp_path):
    # The check above can fail: an empty, a fuzzy and a mangled entry.
    path = tmp_path / "django.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: hi\\n"\n\n'
        'msgid "Save"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Cancel"\nmsgstr "रद्द करें"\n\n'
        '#, python-format\nmsgid "%(left)d tries left."\nmsgstr "बचे प्रयास"\n\n'
        'msgid "Sign in"\nmsgstr "साइन इन करें"\n',
        encoding="utf-8",
    )
    assert problems(path) == [
        "untranslated: Save",
        "fuzzy: Cancel",
        "placeholders differ: %(left)d tries left.",
    ]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is a system package (make)")
@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_is_current_with_the_source(tmp_path, language):
    """The strings of today's code and templates, extracted into a copy of
    the catalogue (``make messages`` does the same in place): none left
    without a translation."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns(*IGNORED))
        else:
            shutil.copy(source, tmp_path / name)
    env = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "authsite.settings.base"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", language, "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert problems(tmp_path / "locale" / language / "LC_MESSAGES" / "django.po") == []
