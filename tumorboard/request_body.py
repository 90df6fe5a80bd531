"""Request bodies declared to Litestar (`data: XCreate`) and decoded by our strict rules.

Litestar's own decoding converts in lax mode (`"ecog": "1"` becomes 1), accepts any content type and
echoes bad values in its messages. `StrictJSON`, the API's DTO, keeps Litestar's declaration (the
OpenAPI schema documents every body) and decodes with `validation.decode_json`: strict, 415 unless
JSON, 400 naming each bad field without repeating it.

Litestar decodes the body before it resolves dependencies; a refusal of the body is therefore held
back until they ran, so a caller without valid credentials still learns 401 (or 403 while they must
change their password) before anything about the body.
"""

from __future__ import annotations

from collections.abc import Collection, Generator
from typing import Any, ClassVar

from litestar import Request
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.types import Empty
from litestar.typing import FieldDefinition

from tumorboard.errors import DomainError
from tumorboard.validation import JSON_MEDIA_TYPE, UnsupportedMediaType, decode_json, media_type

_HELD_BACK = "body_refusal"


class StrictJSON(AbstractDTO[Any]):
    """Decodes a handler's `data` strictly into its declared struct; never used for responses.

    A handler may accept other media types too (`accepted_media_types`): their bodies reach it as
    `data=None`, to read itself (as POST /cases does with a FHIR Bundle)."""

    accepted_media_types: ClassVar[tuple[str, ...]] = (JSON_MEDIA_TYPE,)
    _body_types: ClassVar[dict[str, Any]] = {}

    @classmethod
    def accepting(cls, *media_types: str) -> type[StrictJSON]:
        """The same decoding for a handler that also takes bodies of these media types."""
        return type(
            f"StrictJSON{media_types}", (cls,), {"accepted_media_types": (JSON_MEDIA_TYPE, *media_types)}
        )

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Remember the struct a handler's `data` is declared as."""
        declared = field_definition
        if declared.is_optional:
            declared = next(inner for inner in declared.inner_types if not inner.is_none_type)
        StrictJSON._body_types[handler_id] = declared.annotation

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        """The declared struct's schema, as Litestar documents a body it decodes itself."""
        declared = FieldDefinition.from_annotation(
            StrictJSON._body_types[handler_id], kwarg_definition=field_definition.kwarg_definition
        )
        schema: Reference | Schema = schema_creator.for_field_definition(declared)
        return schema

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        """Responses are encoded by Litestar as declared, never through this DTO."""
        return False

    def decode_bytes(self, value: bytes) -> Any:
        """The body as its struct; a refusal is held back for `refused_body` (see the module's doc)."""
        connection = self.asgi_connection
        content_type = connection.headers.get("content-type")
        try:
            if self.require_accepted(content_type) != JSON_MEDIA_TYPE:
                return None
            return decode_json(
                value, content_type, StrictJSON._body_types[connection.route_handler.handler_id]
            )
        except DomainError as refused:
            connection.state[_HELD_BACK] = refused
            return Empty

    @classmethod
    def require_accepted(cls, content_type: str | None) -> str:
        """The body's media type; 415 unless the handler takes it."""
        kind = media_type(content_type)
        if kind not in cls.accepted_media_types:
            raise UnsupportedMediaType(f"Request body must be {' or '.join(cls.accepted_media_types)}")
        return kind

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        raise NotImplementedError("bodies are decoded from bytes only")

    def data_to_encodable_type(self, data: Any | Collection[Any]) -> Any:
        raise NotImplementedError("responses are not encoded through this DTO")

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        raise NotImplementedError("no transfer model: the declared struct is decoded directly")

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False


def refused_body(request: Request[Any, Any, Any]) -> DomainError | None:
    """Why the request's declared body was refused, once Litestar found its `data` missing: the
    refusal held back while decoding, or else (the body was empty) what decoding nothing says."""
    held_back: DomainError | None = request.state.get(_HELD_BACK)
    if held_back is not None:
        return held_back
    handler = request.scope.get("route_handler")
    dto = handler.resolve_data_dto() if handler is not None else None
    if dto is None or not issubclass(dto, StrictJSON):
        return None
    try:
        dto.require_accepted(request.headers.get("content-type"))
        decode_json(b"", JSON_MEDIA_TYPE, object)
    except DomainError as refused:
        return refused
    return None
