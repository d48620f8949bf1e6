"""axe-core in the browser: the portal's pages are checked by the same engine as browsers'
accessibility tools, from the copy vendored into the package (no network).

`serious_violations(page)` runs axe over the page as it is now and returns the violations of
impact serious or critical; `describe(url, violations)` writes them for an assertion message:
rule, impact, what it asks, the help link, and for each element (up to a few) its selector and
what axe found wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

import accord.web

AXE_JS = Path(accord.web.__file__).parent / "static" / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})
SHOWN_NODES = 5  # elements described per rule; the count says how many there are


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[tuple[str, str]]  # (CSS selector, what is wrong there)


def _axe_source() -> str:
    assert AXE_JS.is_file(), f"axe-core is not at {AXE_JS} (tools/vendor_static.py vendors it)"
    return AXE_JS.read_text(encoding="utf-8")


def serious_violations(page: Page, context: str = "document") -> list[Violation]:
    """axe's violations of impact serious or critical on ``page`` (within the CSS selector
    ``context`` if given). The script is evaluated over the DevTools protocol rather than
    added as a <script>, so that the portal's Content-Security-Policy does not block it and
    need not be loosened for the test."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results: dict[str, Any] = page.evaluate(
        """async (context) => {
            const target = context === "document" ? document : document.querySelector(context);
            return await window.axe.run(target, {resultTypes: ["violations"]});
        }""",
        context,
    )
    found = []
    for item in results["violations"]:
        if item.get("impact") not in BLOCKING:
            continue
        nodes = [
            (" ".join(map(str, node["target"])), node.get("failureSummary") or "")
            for node in item["nodes"]
        ]
        found.append(Violation(item["id"], item["impact"], item["help"], item["helpUrl"], nodes))
    return found


def describe(url: str, violations: list[Violation]) -> str:
    """The violations as lines for a person: one paragraph per rule."""
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v.rule} ({v.impact}, {len(v.nodes)} element(s)): {v.help}")
        lines.append(f"  {v.help_url}")
        for selector, summary in v.nodes[:SHOWN_NODES]:
            lines.append(f"  at {selector}")
            lines.extend(f"    {line.strip()}" for line in summary.splitlines() if line.strip())
        if len(v.nodes) > SHOWN_NODES:
            lines.append(f"  ... and {len(v.nodes) - SHOWN_NODES} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fails with `describe`'s text when axe finds a serious or critical violation."""
    violations = serious_violations(page)
    assert not violations, describe(page.url, violations)
