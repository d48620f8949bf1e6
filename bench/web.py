"""Portal benchmark: the look-up page beside the JSON look-up of the same value, over HTTP
against one `accord serve` of the demo node, in the same run; and the bytes each page costs
a browser before the graph library.

Targets (issue 17): the look-up page's p50 <= 1.5x the JSON look-up's p50 (the page is the
same audited look-up plus rendering); every page under 300 KB transferred (HTML and the
scripts and styles it loads, gzip as browsers ask, cytoscape.js excepted: it loads only on an
object page's graph). Prints one JSON line per measure; exit status 1 when a target is missed.

    .venv/bin/python bench/web.py [--requests N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accord.store.node import Store
from lookup import line, percentile, serve

PASSWORD = "bench password 1"
VALUES = ["198.51.100.23", "203.0.113.77", "cdn.login-update.example.com", "192.0.2.45"]
PAGE_LIMIT = 300 * 1024
ASSET = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="(/static/[^"]+)"')


def demo_node(directory: Path) -> tuple[str, str, str]:
    """A demo node in ``directory``; answers its URL, an investigator's e-mail and API key."""
    import subprocess

    url = f"sqlite:///{directory / 'web.db'}"
    subprocess.run(
        [sys.executable, "-m", "accord.cli.main", "--db", url, "demo"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    store = Store.open(url)
    try:
        email = "investigator@police.sudmark.example"
        user = store.directory.user(email)
        store.credentials.set_password(user.id, PASSWORD)
        key = store.directory.new_key(email)
    finally:
        store.close()
    return url, email, key


def sign_in(client: httpx.Client, email: str) -> None:
    form = client.get("/sign-in").text
    token = re.search(r'name="signin_token" value="([^"]+)"', form)
    assert token is not None
    done = client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "signin_token": token.group(1)},
    )
    assert done.status_code == 303, done.text


def timed(client: httpx.Client, path: str, params: dict[str, str]) -> float:
    response = client.get(path, params=params)
    assert response.status_code == 200, (path, response.status_code)
    return response.elapsed.total_seconds()


def lookup_ratio(base: str, email: str, key: str, requests: int) -> dict[str, Any]:
    """JSON and page look-ups in alternating blocks (as bench/lookup.py does with /health)."""
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
    web = httpx.Client(base_url=base)
    sign_in(web, email)
    json_times: list[float] = []
    page_times: list[float] = []
    for _ in range(3):  # warm both paths (templates compile on first use)
        timed(api, "/api/v1/lookup", {"value": VALUES[0]})
        timed(web, "/", {"q": VALUES[0]})
    block = 20
    for start in range(0, requests, block):
        values = [VALUES[(start + i) % len(VALUES)] for i in range(block)]
        json_times.extend(timed(api, "/api/v1/lookup", {"value": v}) for v in values)
        page_times.extend(timed(web, "/", {"q": v}) for v in values)
    return line(
        "look-up page p50 vs JSON look-up p50",
        percentile(page_times, 50),
        percentile(json_times, 50),
        "s",
        1.5,
        lower=True,
    )


def page_weights(base: str, email: str) -> list[dict[str, Any]]:
    web = httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"})
    sign_in(web, email)
    pages = ["/", "/?q=198.51.100.23", "/account", "/search", "/dashboard", "/ingest"]
    results = []
    for path in pages:
        response = web.get(path)
        if response.status_code != 200:
            continue
        total = response.num_bytes_downloaded  # as sent: compressed where the server did
        for asset in ASSET.findall(response.text):
            if "cytoscape" in asset:
                continue
            total += web.get(asset).num_bytes_downloaded
        result = {
            "bench": f"page weight {path}",
            "accord": total,
            "unit": "bytes",
            "target": PAGE_LIMIT,
            "pass": total <= PAGE_LIMIT,
        }
        print(orjson.dumps(result).decode(), flush=True)
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, email, key = demo_node(Path(tmp))
        process, base = serve(url)
        try:
            results = [lookup_ratio(base, email, key, args.requests)]
            results.extend(page_weights(base, email))
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
