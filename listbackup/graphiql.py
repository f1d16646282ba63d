"""GraphiQL, served whole by the app: no CDN, so it works on a machine without internet.

The page (``static/graphiql.html``) is Strawberry's, pointed at ``ASSETS_URL``; its assets
(React, GraphiQL, the explorer plugin: the exact npm files unpkg would serve, checked
against the page's integrity attributes) are vendored under ``static/graphiql/``, one
directory per ``package@version`` (docs/adr/0007-graphiql-assets-served-by-the-app.md).
Nothing here is read until GraphiQL is enabled; the assets are streamed from disk.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "graphiql.html"
ASSETS_DIR = STATIC / "graphiql"
#: Where the page finds its assets; each path names its package's version.
ASSETS_URL = "/graphiql/assets"
#: A versioned file never changes: browsers may keep it for a year without asking.
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_ASSET = re.compile(
    r'(?:src|href)="' + re.escape(ASSETS_URL) + r'/(?P<package>(?:@[^/"]+/)?[^/@"]+)'
    r'@(?P<version>[^/"]+)/(?P<path>[^"]+)"\s+integrity="(?P<integrity>sha384-[^"]+)"'
)


@dataclass(frozen=True)
class Asset:
    """One file the page loads: an npm package's file, and the page's integrity for it."""

    package: str
    version: str
    path: str
    integrity: str

    @property
    def file(self) -> Path:
        return ASSETS_DIR / f"{self.package}@{self.version}" / self.path


def page_assets() -> list[Asset]:
    """What the page loads from ``ASSETS_URL``, in its order."""
    return [Asset(**match.groupdict()) for match in _ASSET.finditer(page())]


def integrity(data: bytes) -> str:
    """A subresource-integrity value, as the page's attributes spell them."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


class _ImmutableFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = ASSET_CACHE_CONTROL
        return response


def assets_mount() -> Mount:
    """The vendored assets at ``ASSETS_URL``."""
    return Mount(ASSETS_URL, app=_ImmutableFiles(directory=ASSETS_DIR), name="graphiql-assets")


@cache
def page() -> str:
    """The GraphiQL page (read once, on the first browser's visit)."""
    return PAGE.read_text(encoding="utf-8")


@cache
def content_security_policy() -> str:
    """The page's CSP: scripts from this origin and the page's own inline script (by its
    hash), requests (HTTP and WebSocket) to this origin only. Styles may be inline:
    GraphiQL's components add ``<style>`` elements as they render."""
    inline = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(page())
    ]
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(inline),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def page_response() -> Response:
    return Response(
        page(),
        media_type="text/html",
        headers={
            "Content-Security-Policy": content_security_policy(),
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
