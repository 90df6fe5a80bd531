"""Strict request decoding with field-naming errors that never echo the input."""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, TypeVar

import msgspec

from tumorboard.errors import DomainError

T = TypeVar("T")

# Patterns end in \Z, not $: msgspec searches with `re`, where $ also matches before a final "\n".
_NO_NUL = r"^[^\x00]*\Z"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_NO_NUL)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=_NO_NUL)]
Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=200, pattern=r"^[^\s@\x00]+@[^\s@\x00]+\.[^\s@\x00]+\Z")
]
Password = Annotated[str, msgspec.Meta(min_length=12, max_length=128, pattern=_NO_NUL)]

JSON_MEDIA_TYPE = "application/json"
NUL_MESSAGE = "must not contain NUL characters"
NOT_JSON = "is not valid JSON"


class FieldError(msgspec.Struct, frozen=True):
    """One bad field: where it is and what is wrong, in words that repeat no input."""

    key: str
    message: str
    source: str = "body"


class InvalidBody(DomainError):
    """A request body that is not valid for its endpoint; lists each bad field."""

    status_code = 400

    def __init__(self, errors: list[FieldError]) -> None:
        names = ", ".join(error.key for error in errors)
        super().__init__(f"Invalid request body: {names}" if names else "Invalid request body")
        self.errors = errors


class InvalidQuery(InvalidBody):
    """Query parameters that are not valid for their endpoint; lists each bad one."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors)
        names = ", ".join(error.key for error in errors)
        self.detail = f"Invalid query parameters: {names}"


class UnsupportedMediaType(DomainError):
    """The body is not application/json."""

    status_code = 415


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, without its parameters, in lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def require_json(content_type: str | None) -> None:
    """Refuse a body whose declared media type is not JSON."""
    if media_type(content_type) != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType("Request body must be application/json")


def decode_json(body: bytes, content_type: str | None, into: type[T]) -> T:
    """Decode a JSON body strictly into a struct, naming every bad field when it fails."""
    require_json(content_type)
    try:
        value = msgspec.json.decode(body, type=into, strict=True)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        raise InvalidBody([FieldError("body", NOT_JSON)]) from None
    else:
        # JSON can only carry NUL as the escape \u0000; PostgreSQL refuses it in any string,
        # including fields without a NUL-free pattern, so check every string when it may be there.
        if b"\\u0000" in body and (errors := nul_errors(msgspec.json.decode(body), "")):
            raise InvalidBody(errors)
        return value
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:  # the typed decode stopped at a wrong type before the malformed part
        raise InvalidBody([FieldError("body", NOT_JSON)]) from None
    raise InvalidBody(collect_errors(raw, into))


def decode_query(raw: dict[str, str], into: type[T]) -> T:
    """Query parameters (by name, as sent) decoded strictly into a struct; InvalidQuery names every
    bad or missing one without repeating what was sent."""
    try:
        return msgspec.convert(raw, type=into, strict=True)
    except msgspec.ValidationError:
        errors = collect_errors(raw, into)
        raise InvalidQuery([FieldError(error.key, error.message, "query") for error in errors]) from None


def nul_errors(value: Any, key: str) -> list[FieldError]:
    """One error per string (or object key) holding a NUL character, at any depth."""
    if isinstance(value, str):
        return [FieldError(key or "body", NUL_MESSAGE)] if "\x00" in value else []
    if isinstance(value, dict):
        errors = []
        for name, item in value.items():
            if "\x00" in name:
                errors.append(FieldError(key or "body", NUL_MESSAGE))
            else:
                errors.extend(nul_errors(item, _join(key, name)))
        return errors
    if isinstance(value, list):
        return [
            error for index, item in enumerate(value) for error in nul_errors(item, _join(key, str(index)))
        ]
    return []


def collect_errors(raw: Any, into: type[Any], prefix: str = "") -> list[FieldError]:
    """Check each field of a struct separately so the error names every bad one."""
    if not isinstance(raw, dict):
        return [FieldError(prefix or "body", "must be a JSON object")]
    hints = typing.get_type_hints(into, include_extras=True)
    fields = {field.encode_name: field for field in msgspec.structs.fields(into)}
    errors = [
        FieldError(prefix or "body", NUL_MESSAGE)
        if "\x00" in key
        else FieldError(_join(prefix, key), "is not a known field")
        for key in raw
        if key not in fields
    ]
    for name, field in fields.items():
        key = _join(prefix, name)
        if name not in raw:
            if field.required:
                errors.append(FieldError(key, "is required"))
            continue
        value, kind = raw[name], hints[field.name]
        if nul := nul_errors(value, key):
            errors.extend(nul)
            continue
        nested = _struct_of(kind)
        if nested is not None and isinstance(value, dict):
            errors.extend(collect_errors(value, nested, key))
            continue
        try:
            msgspec.convert(value, type=kind, strict=True)
        except msgspec.ValidationError as exc:
            errors.append(FieldError(_locate(key, str(exc)), _describe(str(exc))))
    if not errors:
        # Every field is fine alone: the struct's own cross-field check failed.
        try:
            msgspec.convert(raw, type=into, strict=True)
        except msgspec.ValidationError as exc:
            message = _describe(str(exc))
            # A check such as "birth_date must not be in the future" names its field first.
            first_word = message.split(" ", 1)[0]
            key = _join(prefix, first_word) if first_word in fields else _locate(prefix or "body", str(exc))
            errors.append(FieldError(key, message))
    return errors


def _struct_of(kind: Any) -> type[msgspec.Struct] | None:
    """The struct type behind a field annotation (unwrapping Optional), if any."""
    candidates = [kind, *typing.get_args(kind)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _locate(key: str, message: str) -> str:
    match = _PATH.search(message)
    if not match or not match["path"]:
        return key
    return key + re.sub(r"^\.", ".", match["path"]).replace("[", ".").replace("]", "")


_DESCRIPTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Expected `(?P<t>[^`]+)`, got `[^`]+`"), "must be {t}"),
    (re.compile(r"^Invalid enum value"), "is not one of the allowed values"),
    (re.compile(r"^Expected `str` of length >= 1(?!\d)"), "must not be empty"),
    (re.compile(r"^Expected `str` of length >= (?P<n>\d+)"), "must be at least {n} characters"),
    (re.compile(r"^Expected `str` of length <= (?P<n>\d+)"), "must be at most {n} characters"),
    (re.compile(r"^Expected `array` of length >= (?P<n>\d+)"), "must have at least {n} item(s)"),
    (re.compile(r"^Expected `array` of length <= (?P<n>\d+)"), "must have at most {n} items"),
    # msgspec prints the pattern's backslashes doubled: '^[^\\x00]*\\Z'.
    (re.compile(r"^Expected `str` matching regex '\^\[\^\\+x00\]\*\\+Z'"), NUL_MESSAGE),
    (re.compile(r"^Expected `str` matching regex"), "is not in the expected format"),
    (re.compile(r"^Expected `int` >= (?P<n>-?\d+)"), "must be at least {n}"),
    (re.compile(r"^Expected `int` <= (?P<n>-?\d+)"), "must be at most {n}"),
    (re.compile(r"^Invalid RFC ?3339 encoded datetime"), "must be an RFC 3339 date-time with a time zone"),
    (re.compile(r"^Invalid RFC ?3339 encoded date"), "must be a date (YYYY-MM-DD)"),
    (re.compile(r"^Invalid UUID"), "must be a UUID"),
    (re.compile(r"^Object contains unknown field `(?P<f>[^`]+)`"), "has an unknown field {f}"),
    (re.compile(r"^Object missing required field `(?P<f>[^`]+)`"), "is missing required field {f}"),
    (
        re.compile(r"^Expected `[^`]+` without timezone|^Expected `datetime` with a timezone"),
        "must include a time zone",
    ),
]


def _describe(message: str) -> str:
    for pattern, text in _DESCRIPTIONS:
        match = pattern.match(message)
        if match:
            return text.format(**match.groupdict())
    custom = message.split(" - at `", 1)[0]
    # Messages raised by our own __post_init__ checks are fixed strings without input.
    return custom if custom in _SAFE_MESSAGES else "is invalid"


_SAFE_MESSAGES: set[str] = set()


def safe_message(message: str) -> str:
    """Register a fixed validation message as safe to return to the client."""
    _SAFE_MESSAGES.add(message)
    return message
