"""Screenshots of the portal, so that a person can look at every page without running a
browser (`make screens`).

Builds a fresh demo node (`accord demo`, as `make run` does), serves it on a free loopback
port, signs in through the portal's sign-in form as the demo's first user (with the password
the demo prints, or one set for the screenshots when it prints none), and writes a PNG of each
page of PAGES at each size of SIZES into var/screens/, named PAGE-WIDTHxHEIGHT.png. Chromium
is Debian's (/usr/bin/chromium, `make install` puts it there), driven by Playwright; nothing
is downloaded.

Usage: `python tools/screens.py [--out var/screens] [--db sqlite:///var/screens.db]
[--reuse] [--no-attack]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

from accord.cli.demo import FEATURED, ORGS, SEARCHES
from accord.store.node import Store

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Screen:
    name: str  # the PNG's name
    path: str  # on the node, with its query
    signed_in: bool = True  # False: taken before signing in (the sign-in page itself)
    language: str = "en-GB"  # the browser's language (its Accept-Language)
    status: int = 200  # the answer expected (the error page's is 404); others are skipped


# The pages to photograph, in order. Add a page here: its name and path are enough.
PAGES: tuple[Screen, ...] = (
    Screen("sign-in", "/sign-in", signed_in=False),
    Screen("sign-in-es", "/sign-in", signed_in=False, language="es-ES"),
    Screen("lookup", "/"),
    Screen("lookup-answer", "/?" + urlencode({"q": FEATURED})),
    Screen("lookup-defanged", "/?" + urlencode({"q": SEARCHES[2][0]})),
    Screen("lookup-bulk", "/?" + urlencode({"q": "\n".join(v for v, _ in SEARCHES)})),
    Screen("lookup-unknown", "/?" + urlencode({"q": "192.0.2.254"})),
    Screen("account", "/account"),
    Screen("account-totp", "/account/totp"),
    Screen("lookup-es", "/?" + urlencode({"q": FEATURED}), language="es-ES"),
    Screen("not-found", "/no-such-page", status=404),
    Screen("api-docs", "/api/docs"),
)

# (width, height): a laptop and a phone.
SIZES: tuple[tuple[int, int], ...] = ((1280, 800), (390, 844))

DEMO_USER = ORGS[0][3]  # the demo's first user, the CERT's analyst (src/accord/cli/demo.py)
SCREENS_PASSWORD = "screens only, not a demo password"  # set when the demo prints none
SIGN_IN = "/sign-in"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screens")
    parser.add_argument("--db", default=f"sqlite:///{ROOT / 'var' / 'screens.db'}")
    parser.add_argument("--reuse", action="store_true", help="use the demo node already there")
    parser.add_argument("--no-attack", action="store_true", help="a demo without ATT&CK")
    args = parser.parse_args(argv)

    chromium = os.environ.get("ACCORD_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        print("screens: Debian's chromium is not installed (make install, or", file=sys.stderr)
        print("  apt-get install chromium)", file=sys.stderr)
        return 1
    passwords = {} if args.reuse else build_demo(args.db, attack=not args.no_attack)
    password = passwords.get(DEMO_USER) or set_password(args.db, DEMO_USER, SCREENS_PASSWORD)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(args.db) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            written = [
                shot
                for size in SIZES
                for shot in photograph(browser, base, size, password, args.out)
            ]
        finally:
            browser.close()
    for shot in written:
        print(shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot)
    return 0


def build_demo(db: str, attack: bool) -> dict[str, str]:
    """A fresh demo node at ``db``; answers the demo's passwords by e-mail (none when the demo
    prints none)."""
    if db.startswith("sqlite:///"):
        path = Path(db.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    command = [*accord(db), "demo", "--json"] + ([] if attack else ["--no-attack"])
    print(f"screens: building the demo node at {db}", file=sys.stderr)
    made = subprocess.run(command, check=True, capture_output=True, text=True)
    printed = json.loads(made.stdout)
    passwords = printed.get("portal_passwords", {})
    return {str(email): str(password) for email, password in passwords.items()}


def set_password(db: str, email: str, password: str) -> str:
    """Give ``email`` a password on the node (for a demo that prints none); answers it."""
    store = Store.open(db)
    try:
        store.credentials.set_password(store.directory.user(email).id, password)
    finally:
        store.close()
    return password


def accord(db: str) -> list[str]:
    return [sys.executable, "-m", "accord.cli.main", "--db", db]


@contextmanager
def serve(db: str) -> Iterator[str]:
    """`accord serve` on a free loopback port, until the block ends; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [*accord(db), "serve", "--port", str(port), "--no-bulk-helper"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"screens: the node stopped while starting ({server.returncode})")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("screens: the node did not answer /health within 60 s")


def photograph(
    browser: Browser, base: str, size: tuple[int, int], password: str, out: Path
) -> list[Path]:
    """The PAGES at one size: one browser context (and one sign-in) per language, since the
    browser's language (Accept-Language) is a setting of the context."""
    written = []
    for language in dict.fromkeys(screen.language for screen in PAGES):
        screens = [screen for screen in PAGES if screen.language == language]
        written += photograph_in(browser, base, size, language, password, screens, out)
    return written


def photograph_in(
    browser: Browser,
    base: str,
    size: tuple[int, int],
    language: str,
    password: str,
    screens: list[Screen],
    out: Path,
) -> list[Path]:
    width, height = size
    phone = width < 600
    context = browser.new_context(
        base_url=base,
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
        locale=language,
    )
    context.route("**/*", loopback_only)
    written = []
    signed_in = False
    try:
        for screen in sorted(screens, key=lambda s: s.signed_in):  # signed out ones first
            if screen.signed_in and not signed_in:
                sign_in(context, password)
                signed_in = True  # or tried: the rest are taken as the node shows them
            shot = take(context, screen, out / f"{screen.name}-{width}x{height}.png")
            if shot is not None:
                written.append(shot)
    finally:
        context.close()
    return written


def loopback_only(route: Route) -> None:
    """Nothing leaves the machine: what a page would load from the internet (a CDN) is
    refused, and the screenshot shows the page as an offline user sees it."""
    if urlsplit(route.request.url).hostname in LOOPBACK:
        route.continue_()
    else:
        print(f"screens: refused {route.request.url} (off this machine)", file=sys.stderr)
        route.abort("blockedbyclient")


def sign_in(context: BrowserContext, password: str) -> None:
    """Through the portal's form, when the node has one; a node without it is photographed
    signed out."""
    page = context.new_page()
    try:
        response = page.goto(SIGN_IN)
        form = page.locator("form:has(input[name=password])")
        if response is None or not response.ok or form.count() == 0:
            return
        form.locator("input[name=email]").fill(DEMO_USER)
        form.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            form.locator("input[name=password]").press("Enter")
        if page.url.split("?")[0].endswith(SIGN_IN):
            print(f"screens: signing in as {DEMO_USER} failed; signed out", file=sys.stderr)
    finally:
        page.close()


def take(context: BrowserContext, screen: Screen, path: Path) -> Path | None:
    page = context.new_page()
    try:
        response = page.goto(screen.path, wait_until="networkidle")
        if response is None or response.status != screen.status:
            status = "no answer" if response is None else response.status
            print(f"screens: {screen.path} answered {status}; skipped", file=sys.stderr)
            return None
        page.screenshot(path=path, full_page=True)
        return path
    finally:
        page.close()


if __name__ == "__main__":
    raise SystemExit(main())
