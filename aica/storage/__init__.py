"""Where recordings live: a local directory (the default) or S3-compatible object storage."""

from __future__ import annotations

from aica.config import Settings
from aica.storage.base import StagedFile, Storage, StoredObject
from aica.storage.local import LocalStorage
from aica.storage.s3 import S3Storage

__all__ = ["LocalStorage", "S3Storage", "StagedFile", "Storage", "StoredObject", "create_storage"]


def create_storage(settings: Settings) -> Storage:
    """The backend ``AICA_STORAGE_URL`` names (unset: the data directory)."""
    if settings.storage_url:
        return S3Storage(
            settings.data_dir,
            settings.storage_url,
            endpoint_url=settings.s3_endpoint_url,
            redirect=settings.s3_audio_redirect,
            presign_seconds=settings.s3_presign_seconds,
        )
    return LocalStorage(settings.data_dir)
