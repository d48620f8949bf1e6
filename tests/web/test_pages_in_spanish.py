"""The portal really speaks Spanish: with `Accept-Language: es`, the main pages show none of
their own English strings (each one's words, and every multi-word message of the catalogue),
and dates and numbers take Spanish forms."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from object_seed import VALUE, seed_neighbourhood
from portal_support import Browsing, Portal

from accord.web import i18n

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
CATALOGUE = Path(__file__).resolve().parents[2] / "src/accord/web/locale/es/LC_MESSAGES/messages.po"
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)
_SHOWN_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")

# Each page's own English words, as a reader would spot them.
SIGN_IN = ["Sign in", "E-mail address", "Password", "An API key is not a password"]
LOOKUP = [
    "Look up",
    "Malicious",
    "First seen",
    "Sightings",
    "Reporting organisations",
    "Matched through",
    "Confidence",
    "Did your organisation see this?",
    "We saw it",
    "False positive",
    "anonymously",
    "Skip to content",
    "Sign out",
    "Every answer is filtered",
]
ACCOUNT = [
    "Your account",
    "Who you are",
    "Second factor",
    "Language and time zone",
    "As my browser asks",
    "Change your password",
    "Current password",
    "Your sessions",
    "Last used",
    "this one",
    "analyst",
]
SEARCH = [
    "Search and browse",
    "Words to find",
    "Any level",
    "Created by",
    "Newest first",
    "Modified from",
    "Objects you may see that match",
]
OBJECT = ["Details", "Valid from", "Relationships and references", "Versions", "Copy JSON"]
DASHBOARD = [
    "Objects you may see",
    "Objects by type",
    "The numbers",
    "Most correlated values",
    "most looked-up values",
    "No feeds.",
]
ADMINISTRATION = {
    "/admin": ["Users and keys", "Add a user", "Portal password", "node admin"],
    "/admin/organisations": ["Add an organisation", "Second factor required"],
    "/admin/groups": ["Add a sharing group", "No sharing groups yet."],
    "/admin/feeds": ["Add a TAXII 2.1 feed", "Collection id", "Pull every"],
    "/admin/peers": ["Add a peer", "No peers yet.", "Pull from the peer", "This node"],
    "/audit": ["Filters", "Entries, newest first", "failed sign-in", "Verify the chain"],
    "/audit/chain": ["Hash chain"],
}
INGEST = ["A report", "Paste the report's text", "Find the indicators", "What the file is"]


@cache
def _multi_word_messages() -> frozenset[str]:
    """Every English message of two words or more whose Spanish differs from it."""
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle, locale="es")
    found = set()
    for message in catalog:
        english = message.id[0] if isinstance(message.id, tuple) else message.id
        spanish = message.string[0] if isinstance(message.string, tuple) else message.string
        if english and " " in english and "%(" not in english and spanish != english:
            found.add(english)
    return frozenset(found)


def _shown(page: str) -> str:
    """What a reader sees (and hears): the text and the labelling attributes."""
    page = _HIDDEN.sub(" ", page)
    labels = " ".join(_SHOWN_ATTRIBUTE.findall(page))
    return html.unescape(" ".join(_TAG.sub(" ", page).split()) + " " + labels)


def _assert_spanish(page: str, own: list[str], spanish: str, data: tuple[str, ...] = ()) -> None:
    text = _shown(page)
    for piece in data:  # what users stored is shown as they wrote it
        text = text.replace(piece, " ")
    if "<html" in page:
        assert '<html lang="es">' in page
    assert spanish in text
    english = [phrase for phrase in own if phrase in text]
    assert not english, f"English on the Spanish page: {english}"
    leftover = sorted(phrase for phrase in _multi_word_messages() if phrase in text)
    assert not leftover, f"untranslated messages on the page: {leftover}"


@pytest.fixture
def analyst(portal: Portal) -> Browsing:
    seed_neighbourhood(portal.store, portal.community)
    me = portal.sign_in(portal.emails["analyst"])
    me.http.headers.update(SPANISH)
    return me


def test_sign_in_page(portal: Portal) -> None:
    page = portal.client().get("/sign-in", headers=SPANISH)
    assert page.status_code == 200
    _assert_spanish(page.text, SIGN_IN, "Iniciar sesión")


def test_lookup_with_an_answer(analyst: Browsing) -> None:
    page = analyst.http.get("/", params={"q": VALUE})
    assert page.status_code == 200
    _assert_spanish(page.text, LOOKUP, "Visto por primera vez", ("Visible community indicator",))
    # The same answer as an htmx fragment (the look-up form posts it).
    fragment = analyst.post("/lookup", {"q": VALUE}, headers={"HX-Request": "true"})
    _assert_spanish(
        fragment.text,  # type: ignore[attr-defined]
        LOOKUP[1:11],
        "Avistamientos",
        ("Visible community indicator",),
    )


def test_bulk_lookup_and_an_unknown_value(analyst: Browsing) -> None:
    page = analyst.http.get("/", params={"q": f"{VALUE}\n%%%"})
    _assert_spanish(page.text, ["Download CSV", "Verdict", "not a value"], "Descargar CSV")


def test_account_page(portal: Portal, analyst: Browsing) -> None:
    page = analyst.http.get("/account")
    assert page.status_code == 200
    _assert_spanish(page.text, ACCOUNT, "Tu cuenta", (portal.emails["analyst"],))
    assert "analista" in _shown(page.text)


def test_search_page(analyst: Browsing) -> None:
    page = analyst.http.get("/search")
    assert page.status_code == 200
    _assert_spanish(page.text, SEARCH, "Buscar y explorar")


def test_object_page(portal: Portal) -> None:
    seeded = seed_neighbourhood(portal.store, portal.community)
    me = portal.sign_in(portal.emails["investigator"])
    page = me.http.get(f"/objects/{seeded.visible['id']}", headers=SPANISH)
    assert page.status_code == 200
    names = ("Visible community indicator", "Hidden Amber Malware", "Hidden Identity Org")
    _assert_spanish(page.text, OBJECT, "Detalles", names)


def test_dashboard_page(analyst: Browsing) -> None:
    analyst.http.get("/", params={"q": VALUE})  # a look-up to list
    page = analyst.http.get("/dashboard")
    assert page.status_code == 200
    _assert_spanish(page.text, DASHBOARD, "Objetos que puedes ver")


@pytest.mark.parametrize("path", list(ADMINISTRATION))
def test_administration_pages(portal: Portal, path: str) -> None:
    admin = portal.sign_in(portal.emails["admin"])
    page = admin.http.get(path, headers=SPANISH)
    assert page.status_code == 200
    names = tuple(portal.emails.values())
    _assert_spanish(page.text, ADMINISTRATION[path], "Administración", names)


def test_ingest_page(analyst: Browsing) -> None:
    page = analyst.http.get("/ingest")
    assert page.status_code == 200
    _assert_spanish(page.text, INGEST, "Buscar los indicadores")


def test_error_page(analyst: Browsing) -> None:
    page = analyst.http.get("/objects/indicator--00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404
    _assert_spanish(page.text, ["Nothing here that you may see"], "Aquí no hay nada")


def test_dates_and_numbers_in_spanish() -> None:
    moment = "2026-12-07T10:31:02Z"
    assert i18n.format_when(moment, "es", "Europe/Madrid") == "7 dic 2026, 11:31:02"
    assert i18n.format_when(moment, "en", None) == "Dec 7, 2026, 10:31:02\u202fAM"
    assert i18n.format_number(1234567.5, "es") == "1.234.567,5"
    assert i18n.format_number(1234567.5, "en") == "1,234,567.5"
