"""Files served whole or by byte range, with Range errors in the REST error envelope."""

from __future__ import annotations

from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable

from rest_compat.errors import RestError


class AudioFile(FileResponse):
    """Starlette answers a bad Range in plain text (400) or with an empty body (416)."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader as exc:
            raise RestError(
                "BAD_USER_INPUT", f"Bad Range header: {exc.content}", field="Range"
            ) from None
        except RangeNotSatisfiable as exc:
            raise RestError(
                "RANGE_NOT_SATISFIABLE",
                f"The range starts past the end of the file ({exc.max_size} bytes)",
                headers={"Content-Range": f"bytes */{exc.max_size}"},
                field="Range",
            ) from None
