"""What the generated OpenAPI schema says where Litestar's own description would be wrong."""

from __future__ import annotations

from datetime import time
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """A `datetime.time` is sent as `HH:MM:SS` (local time of day, no offset); Litestar would
    describe it as an ISO 8601 duration, which no client can read it as."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Times of day only."""
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """A string of the form HH:MM:SS."""
        return Schema(
            type=OpenAPIType.STRING,
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$",
            description="Local time of day, HH:MM:SS",
        )


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every refusal's body: its status, a message that repeats no input, and the bad fields if any."""

    status_code: int
    detail: str
    extra: list[dict[str, str]] | None = None


# A document a background worker renders: until it is ready the answer is 503 with Retry-After.
DOCUMENT_NOT_READY = {
    503: ResponseSpec(
        data_container=ErrorBody,
        description="The document is being prepared; retry after the seconds in Retry-After",
        generate_examples=False,
    )
}
