"""Exports that sensors load: Suricata rules, a Zeek Intel Framework file, an RPZ zone, a
hosts file and CSV, each written from `accord.export.indicator_items` (docs/exports.md)."""
