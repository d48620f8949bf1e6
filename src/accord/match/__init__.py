"""Matching: the STIX pattern engine (`accord.match.patterns`) and what is built on it.

Sits between the store and the services above it (look-up, ingest, export): the engine itself
is pure, and the indexes built over stored indicators read through the store's visibility rule.
"""
