"""Forms that carry a file or a long text (the ingest page), read within the portal's limit.

The limit (`Settings.web_upload_bytes`) is checked three times: on the ``Content-Length`` a
browser sends before the body (the body is then read and dropped, so that the browser gets
the page rather than a reset connection), on each part while the form is parsed, and on the
file once read. Past it, the page says so; nothing is kept. The CSRF checks of every form
(`accord.web.visitors.posted`) apply after the form is parsed.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from typing import Final

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from accord.web.visitors import Visitor, posted

FORM_SLACK: Final = 1024 * 1024
"""Bytes of a form beside its file or text (the other fields, the multipart framing)."""
MAX_FIELDS: Final = 20_000
"""Fields of one form: a review posts a keep box per value found (`MAX_VALUES`)."""
MAX_FILE_NAME: Final = 200


class FormRefused(Exception):
    """The form cannot be taken: ``code`` says why, for the page's message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    data: bytes


async def posted_within(request: Request, visitor: Visitor, limit: int) -> FormData:
    """The form of a state-changing request whose file or text may be up to ``limit`` bytes,
    after the CSRF checks; `FormRefused` ("too-large", "bad-form") when it cannot be read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_SLACK:
        async for _chunk in request.stream():  # read and dropped, never kept
            pass
        raise FormRefused("too-large")
    try:
        await request.form(max_files=1, max_fields=MAX_FIELDS, max_part_size=limit + 1)
    except HTTPException as exc:  # Starlette's answer to a part too large or too many fields
        raise FormRefused("too-large" if "size" in str(exc.detail) else "bad-form") from None
    return await posted(request, visitor)  # the form parsed above, now checked


async def upload_of(form: FormData, field: str, limit: int) -> Upload | None:
    """The file posted as ``field``, or None when no file was chosen; `FormRefused`
    ("too-large") past ``limit`` bytes. The form's files are closed (their spooled
    temporary files removed) once it is read; its other fields stay."""
    item = form.get(field)
    try:
        if not isinstance(item, UploadFile) or not item.filename:
            return None
        data = await item.read(limit + 1)
    finally:
        await form.close()
    if len(data) > limit:
        raise FormRefused("too-large")
    return Upload(file_name(item.filename), data)


def file_name(given: str) -> str:
    """A posted file's name as shown and stored: its last path part, no control
    characters, at most `MAX_FILE_NAME` characters."""
    base = os.path.basename(given.replace("\\", "/"))
    clean = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return clean[:MAX_FILE_NAME] or "upload"
