"""Static files in production: whitenoise's compressed, hashed files, with a
file the manifest does not know served under its plain name instead of
failing the page.

Django's manifest storage raises ``ValueError`` for a file ``collectstatic``
has not seen (a deployment that skipped it, a file added since): every page
would answer 500, the 404 and 500 pages included — the error page itself
needs ``favicon.svg``. Here the page renders and only that file is missing
(``make serve`` runs ``collectstatic``; the check ``authsite.W001`` says when
it has not run).
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
