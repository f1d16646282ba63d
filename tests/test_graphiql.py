"""GraphiQL works offline: the page and everything it loads come from the app itself,
byte for byte what its integrity attributes name (tests/browser/ drives it for real)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import httpx

from listbackup import graphiql
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.server import create_app

BROWSER = {"Accept": "text/html"}
#: The favicon's inline SVG names its XML namespace; nothing is fetched from it.
XML_NAMESPACE = "http://www.w3.org/2000/svg"


class _Page(HTMLParser):
    """The page's tags that load something, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {"tag": tag, **dict(attrs)}
        if "src" in attributes or "href" in attributes:
            self.loads.append(attributes)
        self._in_inline_script = tag == "script" and "src" not in attributes

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts.append(data)


def _sha(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


async def test_the_page_and_every_asset_it_loads_are_served_by_the_app(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"graphiql": True}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/graphql", headers=BROWSER)
        parsed = _Page()
        parsed.feed(page.text)
        assets = {
            str(load.get("src") or load.get("href")): load
            for load in parsed.loads
            if load["tag"] == "script" or load.get("rel") == "stylesheet"
        }
        served = {path: await http.get(path) for path in assets}

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # What the page loads: React, js-cookie, GraphiQL and the explorer (scripts and CSS).
    assert len(assets) == 7
    for path, load in assets.items():
        response = served[path]
        assert path.startswith(graphiql.ASSETS_URL + "/"), path
        assert response.status_code == 200, path
        assert load["integrity"] == _sha("sha384", response.content), path
        assert response.headers["cache-control"] == graphiql.ASSET_CACHE_CONTROL
        kind = "text/javascript" if load["tag"] == "script" else "text/css"
        assert response.headers["content-type"].startswith(kind), path
    # Nothing from another host: every other link is inline (the favicon, a data: URL).
    others = [
        load for load in parsed.loads if str(load.get("src") or load.get("href")) not in assets
    ]
    assert [load["rel"] for load in others] == ["icon"]
    assert all(str(load["href"]).startswith("data:") for load in others)
    assert set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"'%]*", page.text)) <= {XML_NAMESPACE}


async def test_the_page_may_run_only_itself_and_this_origin(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"graphiql": True}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/graphql", headers=BROWSER)

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    parsed = _Page()
    parsed.feed(page.text)
    (inline,) = parsed.inline_scripts
    assert policy["script-src"] == f"'self' '{_sha('sha256', inline.encode())}'"
    assert policy["connect-src"] == "'self'"  # HTTP and the subscriptions' WebSocket
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert not re.search(r"https?:|\*", page.headers["content-security-policy"])


async def test_no_graphiql_no_assets(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"graphiql": False}))
    (first, *_) = graphiql.page_assets()

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/graphql", headers=BROWSER)
        asset = await http.get(
            f"{graphiql.ASSETS_URL}/{first.package}@{first.version}/{first.path}"
        )

    assert page.status_code == 404
    assert asset.status_code == 404


def test_the_vendored_files_are_the_pages_and_nothing_else() -> None:
    """What `make graphiql-assets` keeps: the page's files (and each package's LICENSE)."""
    assets = graphiql.page_assets()
    vendored = {p for p in graphiql.ASSETS_DIR.rglob("*") if p.is_file()}

    assert {a.file for a in assets} <= vendored
    assert {p for p in vendored if p.name != "LICENSE"} == {a.file for a in assets}
    for asset in assets:
        assert graphiql.integrity(asset.file.read_bytes()) == asset.integrity, asset
    # About 4 MB, GraphiQL's bundle most of it.
    assert sum(p.stat().st_size for p in vendored) < 5_000_000
