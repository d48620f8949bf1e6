"""Correlation: which objects share an observable, joined up at ingest (`write`, with `files`
and `fuzzy`) and read through the visibility rule (`read`, `hubs`). docs/correlation.md
describes the relations and the bounded storage."""
