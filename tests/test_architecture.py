"""What may import what (SPEC §2, STYLE "What may import what"), checked by
walking every module's imports with ``ast`` — imports inside functions count
too — and the migrations agreeing with the models."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "otp", "profiles", "authsite")

# The front doors: what translates HTTP (and the admin) to service calls.
DOORS = {
    "accounts": (
        "accounts.views",
        "accounts.forms",
        "accounts.urls",
        "accounts.api",
        "accounts.pages",
        "accounts.flows",
        "accounts.browser",
        "accounts.middleware",
        "accounts.admin",
        "accounts.admin_views",
        "accounts.backends",
        "accounts.wellknown",
    ),
    "profiles": ("profiles.views", "profiles.forms", "profiles.urls", "profiles.api"),
    "otp": ("otp.admin",),
}
HTML_DOOR = ("accounts.views", "accounts.forms", "accounts.pages", "accounts.flows")
# The software authenticator of the tests and the benchmark is no part of a flow.
JSON_DOOR = ("accounts.api", "profiles.api")
# What the flows are made of: never a door.
CORE = (
    "accounts.services",
    "accounts.selectors",
    "accounts.models",
    "accounts.managers",
    "accounts.identifiers",
    "accounts.validators",
    "accounts.devices",
    "otp.services",
    "otp.models",
    "otp.delivery",
    "profiles.services",
    "profiles.models",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, set[str]]:
    """Every project module (tests and migrations aside) and what it imports."""
    graph: dict[str, set[str]] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).parts
            if "tests" in rel or "migrations" in rel:
                continue
            name = _module_name(path)
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            imported: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    imported.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parent = (
                            package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                        )
                        base = f"{parent}.{base}" if base else parent
                    imported.add(base)
                    # ``from accounts.services import signin`` imports a module too.
                    imported.update(f"{base}.{alias.name}" for alias in node.names)
            graph[name] = {m for m in imported if m.split(".")[0] in APPS}
    return graph


GRAPH = _modules()


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _resolve(module: str) -> str | None:
    """The project module an import names (``pkg.mod.name`` → ``pkg.mod``)."""
    while module and module not in GRAPH:
        module = module.rpartition(".")[0]
    return module or None


def _edges():
    for module, imported in GRAPH.items():
        for target in imported:
            resolved = _resolve(target)
            if resolved and resolved != module:
                yield module, resolved


def test_the_walk_sees_the_project():
    assert "accounts.services.signin" in GRAPH
    assert ("accounts.views", "accounts.services.signin") in set(_edges())


def test_no_flow_module_imports_a_front_door():
    bad = [
        (m, t)
        for m, t in _edges()
        if _within(m, CORE) and any(_within(t, doors) for doors in DOORS.values())
    ]
    assert not bad, bad


def test_the_two_front_doors_never_import_each_other():
    bad = [
        (m, t)
        for m, t in _edges()
        if (_within(m, HTML_DOOR) and _within(t, JSON_DOOR))
        or (_within(m, JSON_DOOR) and _within(t, HTML_DOOR))
    ]
    assert not bad, bad


def test_otp_knows_nothing_of_accounts_or_profiles():
    bad = [
        (m, t)
        for m, t in _edges()
        if m.startswith("otp") and t.split(".")[0] in ("accounts", "profiles")
    ]
    assert not bad, bad


def test_profiles_never_reaches_into_accounts():
    bad = [(m, t) for m, t in _edges() if m.startswith("profiles") and t.startswith("accounts")]
    assert not bad, bad


def test_app_configs_import_no_front_door():
    bad = [
        (m, t)
        for m, t in _edges()
        if m.endswith(".apps") and any(_within(t, doors) for doors in DOORS.values())
    ]
    assert not bad, bad


def test_no_import_circle_among_the_accounts_modules():
    graph: dict[str, set[str]] = {}
    for module, target in _edges():
        if module.startswith("accounts") and target.startswith("accounts"):
            graph.setdefault(module, set()).add(target)
    # Package __init__ modules are empty namespaces: edges into them are not circles.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if GRAPH.get(nxt) == set() and nxt.count(".") <= 1:
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node)
    assert not cycles, cycles


@pytest.mark.django_db
def test_the_migrations_describe_the_models():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
