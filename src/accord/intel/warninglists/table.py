"""The reviewed class table of docs/warninglists.md, generated from the compiled lists.

``python -m accord.intel.warninglists.table`` prints the part of docs/warninglists.md between
its ``classes:begin`` and ``classes:end`` markers; tests/intel/test_warninglist_classes.py
checks that the page holds exactly this, so a package upgrade that adds, renames or resizes a
list fails until the table is reviewed and regenerated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from accord.intel.warninglists.classes import CLASSES, DEFAULT_CLASS, LIST_CLASSES
from accord.intel.warninglists.compiler import ListInfo

BEGIN = "<!-- classes:begin (generated: python -m accord.intel.warninglists.table) -->"
END = "<!-- classes:end -->"


def markdown(lists: Sequence[ListInfo]) -> str:
    """Totals per class, then one row per list (benign first, by name)."""
    count: Counter[str] = Counter(info.list_class for info in lists)
    entries: Counter[str] = Counter()
    for info in lists:
        entries[info.list_class] += info.entries
    unreviewed = [info.name for info in lists if info.name not in CLASSES]
    lines = [
        BEGIN,
        "",
        "| class | lists | entries |",
        "| --- | ---: | ---: |",
        *(f"| {c} | {count[c]} | {entries[c]:,} |" for c in LIST_CLASSES),
        f"| **all** | {len(lists)} | {sum(entries.values()):,} |",
        "",
    ]
    if unreviewed:
        lines += [
            f"Not reviewed yet ({DEFAULT_CLASS} until they are): "
            + ", ".join(f"`{name}`" for name in unreviewed),
            "",
        ]
    lines += ["| list | class | why | type | entries |", "| --- | --- | --- | --- | ---: |"]
    order = {name: position for position, name in enumerate(LIST_CLASSES)}
    for info in sorted(lists, key=lambda i: (order[i.list_class], i.name.lower())):
        name = info.name.replace("|", "\\|")
        lines.append(
            f"| {name} | {info.list_class} | {info.reason} | {info.type} | {info.entries:,} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    from accord.intel.warninglists import WarningLists

    print(markdown(WarningLists.load().lists))


if __name__ == "__main__":
    main()
