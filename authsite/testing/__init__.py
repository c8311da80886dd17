"""Helpers shared by the test suites and the benchmarks (not used by the site)."""


def env_absent(monkeypatch, *names: str) -> None:
    """Each environment variable unset for the test, and unset again after it
    even if the code under test set it (``monkeypatch.delenv`` of an unset
    variable records nothing to undo)."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
