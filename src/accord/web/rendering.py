"""Pages from Jinja2 templates, one template environment per language (each with its gettext
catalog installed, `accord.web.i18n`). Templates are autoescaped and get no store, no
request object beyond what is handed to them: they only show what the handler decided."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

from accord.web import i18n

if TYPE_CHECKING:
    from accord.web.static_files import StaticAssets

# TLP 2.0 names and the CSS class of their badge (colours in static/portal/portal.css, from
# the TLP 2.0 standard: https://www.first.org/tlp/).
TLP_CLASSES = {
    "TLP:CLEAR": "clear",
    "TLP:GREEN": "green",
    "TLP:AMBER": "amber",
    "TLP:AMBER+STRICT": "amber-strict",
    "TLP:RED": "red",
}

# Security headers of every page: no framing, no sniffing, only this node's scripts and styles
# (htmx's own indicator style is turned off by a meta tag in base.html, so no inline style
# element is needed), and nothing of a page kept in a shared cache.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Pages:
    def __init__(self, assets: StaticAssets) -> None:
        self.assets = assets

    @cache  # noqa: B019 - one Pages per application, a handful of languages
    def environment(self, language: str) -> Environment:
        env = Environment(
            loader=PackageLoader("accord.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates ship with the package: no file-system check of each on every render.
            auto_reload=False,
        )
        env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
        env.globals["asset"] = self.assets.url
        env.globals["language"] = language
        env.globals["languages"] = i18n.LANGUAGES
        env.filters["when"] = _when
        env.filters["number"] = lambda value: i18n.format_number(value, language)
        env.filters["tlp_class"] = lambda label: TLP_CLASSES.get(str(label), "unknown")
        return env

    def render(
        self,
        language: str,
        template: str,
        context: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        html = self.environment(language).get_template(template).render(context)
        return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})

    def fragment(self, language: str, template: str, context: dict[str, Any]) -> Markup:
        return Markup(self.environment(language).get_template(template).render(context))


@pass_context
def _when(context: Context, text: str | None) -> str:
    """A timestamp in the reader's language and time zone (``time_zone`` in the context)."""
    return i18n.format_when(text, context["language"], context.get("time_zone"))
