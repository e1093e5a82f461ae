"""Audio in (multipart upload, or a file the REST layer staged) and out (stored file info)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from aica.graphql.context import Info
from aica.graphql.scalars import JSON
from aica.graphql.types.records import Record
from aica.services import redaction, uploads

_CHUNK = 1 << 20
CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
}


@strawberry.input
class UploadRecordInput:
    project_id: strawberry.ID
    file: Upload
    metadata: JSON | None = None


@strawberry.input
class StagedUploadInput:
    project_id: strawberry.ID
    staged_file_id: str
    file_name: str = ""
    metadata: JSON | None = None


@strawberry.type
class AudioFile:
    id: strawberry.ID = strawberry.field(description="The record's id (one file each).")
    key: str
    content_type: str
    size: int | None
    sha256: str | None
    file_name: str | None
    disposition: str = strawberry.field(
        default="inline", description="attachment when asked to download, else inline."
    )


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(_CHUNK):
        yield chunk


@strawberry.type
class UploadMutations:
    @strawberry.mutation(description="Upload a recording (GraphQL multipart request spec).")
    async def upload_record(self, info: Info, input: UploadRecordInput) -> Record:
        actor = await info.context.actor()
        runtime = info.context.runtime
        metadata = uploads.parse_metadata(input.metadata)
        await uploads.check_can_upload(actor, input.project_id)
        file = cast(UploadFile, input.file)  # strawberry's Upload is Starlette's UploadFile here
        staged = await runtime.storage.stage(_chunks(file), runtime.settings.max_upload_bytes)
        upload = uploads.Upload(input.project_id, staged, file.filename or "", metadata)
        limits = uploads.audio_limits(runtime.settings)
        record = await uploads.create_from_upload(
            actor, runtime.storage, runtime.events, upload, limits
        )
        return Record.from_model(record, mask_phone=False)

    @strawberry.mutation(description="Create a record from a file the REST upload route staged.")
    async def create_record_from_staged_file(self, info: Info, input: StagedUploadInput) -> Record:
        actor = await info.context.actor()
        runtime = info.context.runtime
        storage = runtime.storage
        try:
            staged = storage.staged(input.staged_file_id)
            metadata = uploads.parse_metadata(input.metadata)
        except Exception:
            await storage.discard(input.staged_file_id)
            raise
        upload = uploads.Upload(input.project_id, staged, input.file_name, metadata)
        limits = uploads.audio_limits(runtime.settings)
        record = await uploads.create_from_upload(actor, storage, runtime.events, upload, limits)
        return Record.from_model(record, mask_phone=False)


@strawberry.type
class AudioQueries:
    @strawberry.field(
        description="True when the caller may upload recordings to the selected org; errors "
        "say why not (the REST upload route asks before it reads the file)."
    )
    async def can_upload_recordings(self, info: Info) -> bool:
        uploads.require_uploader(await info.context.actor())
        return True

    @strawberry.field(
        description="Where the record's audio is stored, for streaming it: the copy with its "
        "personal data silenced when the project redacts audio, unless an owner or admin asks "
        "for the original. Each call is audited (listened, downloaded, original), once per "
        "user, record and kind each half hour."
    )
    async def record_audio(
        self,
        info: Info,
        id: strawberry.ID,
        original: bool | None = False,
        download: bool | None = False,
    ) -> AudioFile:
        actor = await info.context.actor()
        record, served = await redaction.audio_to_serve(actor, id, bool(original), bool(download))
        disposition = "attachment" if download else "inline"
        if served.redacted:
            stem = (record.file_name or record.id).rsplit(".", 1)[0]
            return AudioFile(
                id=strawberry.ID(record.id),
                key=served.key,
                content_type=CONTENT_TYPES["wav"],
                size=None,
                sha256=None,
                file_name=f"{stem}-redacted.wav",
                disposition=disposition,
            )
        return AudioFile(
            id=strawberry.ID(record.id),
            key=served.key,
            content_type=CONTENT_TYPES.get(record.format or "", "application/octet-stream"),
            size=record.size,
            sha256=record.sha256,
            file_name=record.file_name or (f"{record.id}.{record.format}" if download else None),
            disposition=disposition,
        )
