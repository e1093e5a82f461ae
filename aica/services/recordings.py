"""An ingested record's audio: where it is (its URL, or asked of the CRM that sent the call),
and bringing it into storage."""

from __future__ import annotations

import asyncio
from typing import Any

from aica.config import Settings
from aica.models import Bitrix24Connection, Record
from aica.services.downloads import (
    AddressPolicy,
    DownloadFailed,
    DownloadUnavailable,
    download,
    post_json,
)
from aica.services.uploads import audio_limits
from aica.speech.audio import probe
from aica.storage import Storage


class RecordingNotReady(DownloadUnavailable):
    """The CRM has not attached the recording yet: ask again later, within a longer budget."""


async def fetch_audio(record: Record, settings: Settings, storage: Storage) -> dict[str, Any]:
    """Download, probe and store the record's audio; returns the record fields it fills."""
    policy = AddressPolicy.from_settings(settings)
    time_limit = settings.download_timeout_seconds
    url = await audio_url(record, policy=policy, time_limit=time_limit)
    staged = await download(
        url, storage, limit=settings.max_upload_bytes, time_limit=time_limit, policy=policy
    )
    try:
        info = await asyncio.to_thread(probe, staged.path, audio_limits(settings))
        key = await storage.commit(staged, record.org_id, record.id, info.format)
    finally:
        await storage.discard(staged.id)
    return {
        "source_auth": None,  # a CRM's token is not kept once the audio is ours
        "audio_key": key,
        "format": info.format,
        "size": staged.size,
        "sha256": staged.sha256,
        "duration": info.duration,
        "channels": info.channels,
    }


async def audio_url(record: Record, *, policy: AddressPolicy, time_limit: float) -> str:
    if record.audio_url:
        return record.audio_url
    auth: dict[str, Any] = record.source_auth or {}
    if "bitrix24ConnectionId" in auth:
        return await _bitrix24_recording(record, auth, policy, time_limit)
    raise DownloadFailed("The record has no audio and no source to fetch it from")


async def _bitrix24_recording(
    record: Record, auth: dict[str, Any], policy: AddressPolicy, time_limit: float
) -> str:
    """``voximplant.statistic.get`` names the recording (URL, or a Disk file id)."""
    connection = await Bitrix24Connection.get_or_none(
        pk=auth["bitrix24ConnectionId"], org_id=record.org_id
    )
    if connection is None:
        raise DownloadFailed("The Bitrix24 connection of this call was removed")
    if connection.rest_url:
        base, token = connection.rest_url.rstrip("/") + "/", {}
    elif auth.get("clientEndpoint") and auth.get("accessToken"):
        base = str(auth["clientEndpoint"]).rstrip("/") + "/"
        token = {"auth": auth["accessToken"]}
    else:
        raise DownloadFailed("Bitrix24: no REST webhook URL on the connection and no OAuth token")

    async def call(method: str, params: dict[str, Any]) -> Any:
        answer = await post_json(
            base + method, {**params, **token}, time_limit=time_limit, policy=policy
        )
        if isinstance(answer, dict) and "error" in answer:
            raise DownloadFailed(
                f"Bitrix24 {method}: {answer.get('error_description') or answer['error']}"
            )
        return answer.get("result") if isinstance(answer, dict) else None

    calls = await call("voximplant.statistic.get", {"FILTER": {"CALL_ID": record.external_id}})
    call_info = calls[0] if isinstance(calls, list) and calls else {}
    if call_info.get("CALL_RECORD_URL"):
        return str(call_info["CALL_RECORD_URL"])
    if call_info.get("RECORD_FILE_ID"):
        file_info = await call("disk.file.get", {"id": call_info["RECORD_FILE_ID"]})
        if isinstance(file_info, dict) and file_info.get("DOWNLOAD_URL"):
            return str(file_info["DOWNLOAD_URL"])
    raise RecordingNotReady("Bitrix24 has not attached the call's recording yet")
