"""QBO's file upload: `POST /v3/company/<realm>/upload`, multipart (reference QBO §14 "Attachments").

Intuit's request: pairs of parts named `file_metadata_<n>` (JSON Attachable: FileName, ContentType,
AttachableRef [{EntityRef {type, value}}], optional Note) and `file_content_<n>` (the bytes). The answer is
`{"AttachableResponse": [{"Attachable": {...}} | {"Fault": {...}}], "time": ...}`. As strict as the
reference: 17 file types (others 6041), 100 MB per request, the referenced object must exist.

The body is read chunk by chunk: the fake counts and hashes a file's bytes and keeps them whole only
when small, so a 50 MB upload never sits in memory here either.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import qbo_errors as err
from .qbo_errors import QBOFault

ALLOWED_TYPES = frozenset(
    {"ai", "csv", "doc", "docx", "eps", "gif", "jpeg", "jpg", "ods", "pdf", "png", "rtf", "tif", "txt", "xls"}
    | {"xlsx", "xml"}
)
MAX_REQUEST_BYTES = 100 * 1024 * 1024
KEEP_WHOLE_BYTES = 2 * 1024 * 1024  # larger files are kept as size + sha256 only
MAX_HEADER_BYTES = 16 * 1024
MAX_METADATA_BYTES = 1024 * 1024
_PART_NAME = re.compile(r"^file_(?P<kind>metadata|content)_(?P<index>\w+)$")
_DISPOSITION = re.compile(r'(?P<key>[a-zA-Z*]+)="(?P<value>[^"]*)"')


class TooLarge(Exception):
    pass


@dataclass
class Part:
    name: str
    filename: str = ""
    content_type: str = ""
    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    kept: bytearray | None = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        self.digest.update(data)
        if self.kept is not None:
            if len(self.kept) + len(data) > KEEP_WHOLE_BYTES:
                self.kept = None
            else:
                self.kept.extend(data)


def boundary_of(content_type: str) -> str | None:
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"')
    return None


def read_parts(chunks: Iterable[bytes], boundary: str, limit: int = MAX_REQUEST_BYTES) -> list[Part]:
    """Parse a multipart body as it arrives; raises TooLarge past ``limit`` bytes, ValueError if malformed."""
    return list(_parts(_counted(chunks, limit), boundary.encode()))


def _counted(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise TooLarge
        if chunk:
            yield bytes(chunk)


def _parts(chunks: Iterator[bytes], boundary: bytes) -> Iterator[Part]:
    first, delimiter = b"--" + boundary, b"\r\n--" + boundary
    buffer = bytearray()
    source = iter(chunks)

    def more() -> bool:
        chunk = next(source, None)
        if chunk is None:
            return False
        buffer.extend(chunk)
        return True

    while (at := buffer.find(first)) < 0:  # the preamble
        if not more():
            raise ValueError("no opening boundary")
    del buffer[: at + len(first)]
    while True:
        while len(buffer) < 2 and more():
            pass
        if buffer[:2] == b"--":
            return  # closing boundary
        if buffer[:2] != b"\r\n":
            raise ValueError("malformed boundary line")
        del buffer[:2]
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if len(buffer) > MAX_HEADER_BYTES or not more():
                raise ValueError("part headers not terminated")
        part = _part(bytes(buffer[:end]).decode("utf-8", "replace"))
        del buffer[: end + 4]
        while (at := buffer.find(delimiter)) < 0:
            safe = len(buffer) - len(delimiter)  # a delimiter may straddle two chunks
            if safe > 0:
                part.feed(bytes(buffer[:safe]))
                del buffer[:safe]
            if not more():
                raise ValueError("part not terminated")
        part.feed(bytes(buffer[:at]))
        del buffer[: at + len(delimiter)]
        yield part


def _part(headers: str) -> Part:
    fields: dict[str, str] = {}
    for line in headers.split("\r\n"):
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    disposition = dict(
        (m["key"].lower(), m["value"]) for m in _DISPOSITION.finditer(fields.get("content-disposition", ""))
    )
    return Part(
        name=disposition.get("name", ""),
        filename=disposition.get("filename", ""),
        content_type=fields.get("content-type", ""),
    )


@dataclass(frozen=True)
class Upload:
    """One metadata/content pair, checked: what the Attachable is made of."""

    metadata: dict[str, Any]
    content: Part


def pair(parts: list[Part]) -> list[Upload | QBOFault]:
    """Pair `file_metadata_<n>` with `file_content_<n>`; each pair becomes an Upload or its Fault."""
    metadata: dict[str, Part] = {}
    contents: dict[str, Part] = {}
    for part in parts:
        match = _PART_NAME.match(part.name)
        if match is None:
            continue  # other parts are ignored (unverified)
        (metadata if match["kind"] == "metadata" else contents)[match["index"]] = part
    if not contents:
        return [err.required("file_content")]
    out: list[Upload | QBOFault] = []
    for index, content in contents.items():
        meta = metadata.get(index)
        if meta is None:
            out.append(err.required(f"file_metadata_{index}"))
            continue
        out.append(_checked(meta, content))
    return out


def _checked(meta: Part, content: Part) -> Upload | QBOFault:
    if meta.kept is None or meta.size > MAX_METADATA_BYTES:
        return err.invalid_value("file_metadata", "The metadata part is too large")
    try:
        body = json.loads(bytes(meta.kept))
    except ValueError:
        return err.invalid_value("file_metadata", "The metadata part is not JSON")
    if not isinstance(body, dict):
        return err.invalid_value("file_metadata", "The metadata part is not a JSON object")
    name = str(body.get("FileName") or content.filename or "")
    if not name:
        return err.required("FileName")
    if not (body.get("ContentType") or content.content_type):
        return err.required("ContentType")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_TYPES:
        return unsupported_type(name)
    if content.size == 0:
        return err.invalid_value("file_content", "The file is empty")
    return Upload(body, content)


def unsupported_type(name: str) -> QBOFault:
    return QBOFault(
        "6041",
        "Unsupported file type",
        f"The file {name} is of a type that is not supported. Supported types: "
        + ", ".join(sorted(ALLOWED_TYPES)),
        "FileName",
    )


def too_large() -> QBOFault:
    # The 100 MB limit is documented; the exact refusal is not (UNVERIFIED code and status).
    return QBOFault(
        "6040", "Request too large", "The request exceeds the 100 MB upload limit", "file_content", status=413
    )
