"""Vendor GraphiQL's assets from the npm registry: `make graphiql-assets`.

For every asset listbackup/static/graphiql.html loads, fetch its package's tarball from
the registry (checked against the registry's sha512 integrity), take the file (and the
package's LICENSE), check it against the page's sha384 integrity attribute, and write it
under listbackup/static/graphiql/<package>@<version>/. Files no asset needs are removed.
With --check, only compare what is on disk with the page (no network).

To move to other versions: change the page's URLs and integrity attributes (Strawberry's
own page, strawberry/static/graphiql.html, names the ones it tested), then run this.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import shutil
import sys
import tarfile
from itertools import groupby
from pathlib import Path

import httpx

from listbackup.graphiql import ASSETS_DIR, Asset, integrity, page_assets

REGISTRY = "https://registry.npmjs.org"


def _tarball(http: httpx.Client, package: str, version: str) -> tarfile.TarFile:
    meta = http.get(f"{REGISTRY}/{package}/{version}").raise_for_status().json()
    data = http.get(meta["dist"]["tarball"]).raise_for_status().content
    algorithm, _, expected = meta["dist"]["integrity"].partition("-")
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        raise SystemExit(f"{package}@{version}: the tarball does not match the registry")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def _member(tar: tarfile.TarFile, path: str) -> bytes | None:
    try:
        extracted = tar.extractfile(f"package/{path}")
    except KeyError:
        return None
    return extracted.read() if extracted else None


def vendor(assets: list[Asset]) -> None:
    keep: set[Path] = set()
    with httpx.Client(timeout=60, follow_redirects=True) as http:
        for (package, version), group in groupby(
            sorted(assets, key=lambda a: (a.package, a.version)),
            key=lambda a: (a.package, a.version),
        ):
            tar = _tarball(http, package, version)
            for asset in group:
                data = _member(tar, asset.path)
                if data is None or integrity(data) != asset.integrity:
                    raise SystemExit(f"{package}@{version}/{asset.path}: not the page's file")
                _write(asset.file, data, keep)
            license_text = _member(tar, "LICENSE")
            if license_text is not None:
                _write(ASSETS_DIR / f"{package}@{version}" / "LICENSE", license_text, keep)
            print(f"vendored {package}@{version}")
    for stale in sorted(p for p in ASSETS_DIR.rglob("*") if p.is_file() and p not in keep):
        print(f"removed  {stale.relative_to(ASSETS_DIR)}")
        stale.unlink()
    for directory in sorted(ASSETS_DIR.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            shutil.rmtree(directory)


def _write(path: Path, data: bytes, keep: set[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    keep.add(path)


def check(assets: list[Asset]) -> int:
    wrong = [
        a for a in assets if not a.file.is_file() or integrity(a.file.read_bytes()) != a.integrity
    ]
    for asset in wrong:
        print(f"missing or changed: {asset.file.relative_to(ASSETS_DIR)}", file=sys.stderr)
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; no network")
    assets = page_assets()
    if parser.parse_args().check:
        return check(assets)
    vendor(assets)
    return check(assets)


if __name__ == "__main__":
    sys.exit(main())
