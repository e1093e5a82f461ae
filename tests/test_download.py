"""Ingest downloads: streamed into staging, limited in size and time, public addresses only."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest

from aica.errors import PayloadTooLarge
from aica.services.downloads import AddressPolicy, DownloadFailed, DownloadUnavailable, download
from aica.storage import LocalStorage, Storage
from tests.http_fixtures import audio_host, serving

PAYLOAD = bytes(range(256)) * 400


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[str]:
    (tmp_path / "call.bin").write_bytes(PAYLOAD)
    async with serving(audio_host({"call.bin": tmp_path / "call.bin"})) as url:
        yield url


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return LocalStorage(tmp_path / "data")


def staged_files(storage: Storage) -> list[Path]:
    return sorted(storage.staging.glob("*")) if storage.staging.exists() else []


async def fetch(storage: Storage, url: str, **options: object) -> object:
    settings = {"limit": 10_000_000, "time_limit": 5.0, "policy": AddressPolicy(allow_private=True)}
    settings.update(options)
    return await download(url, storage, **settings)  # type: ignore[arg-type]


async def test_download_streams_the_file_into_staging_with_its_hash(
    host: str, storage: Storage
) -> None:
    staged = await fetch(storage, f"{host}/files/call.bin")
    assert staged.path.read_bytes() == PAYLOAD  # type: ignore[attr-defined]
    assert staged.size == len(PAYLOAD)  # type: ignore[attr-defined]
    assert staged.sha256 == hashlib.sha256(PAYLOAD).hexdigest()  # type: ignore[attr-defined]


async def test_loopback_address_is_refused_unless_private_urls_are_allowed(
    host: str, storage: Storage
) -> None:
    with pytest.raises(DownloadFailed, match="non-public address"):
        await fetch(storage, f"{host}/files/call.bin", policy=AddressPolicy())
    assert staged_files(storage) == []


async def test_redirect_to_a_private_address_is_refused(host: str, storage: Storage) -> None:
    """Loopback is allowed (the test server), 10.0.0.0/8 is not: the redirect is checked too."""
    loopback_only = AddressPolicy(allowed_networks=(ip_network("127.0.0.0/8"),))
    with pytest.raises(DownloadFailed, match=r"non-public address \(10\.0\.0\.1\)"):
        await fetch(storage, f"{host}/redirect?to=http://10.0.0.1/x", policy=loopback_only)
    assert staged_files(storage) == []


@pytest.mark.parametrize("url", ["ftp://example.com/a.wav", "file:///etc/passwd", "nope"])
async def test_only_http_urls_are_downloaded(url: str, storage: Storage) -> None:
    with pytest.raises(DownloadFailed, match="Only http"):
        await fetch(storage, url)


async def test_missing_file_is_a_permanent_failure(host: str, storage: Storage) -> None:
    with pytest.raises(DownloadFailed, match="HTTP 404"):
        await fetch(storage, f"{host}/files/nothing.wav")


async def test_server_error_is_retryable(host: str, storage: Storage) -> None:
    with pytest.raises(DownloadUnavailable, match="HTTP 503"):
        await fetch(storage, f"{host}/flaky")


async def test_slow_server_times_out(host: str, storage: Storage) -> None:
    with pytest.raises(DownloadUnavailable, match=r"timed out after 0\.5 s"):
        await fetch(storage, f"{host}/slow?seconds=5", time_limit=0.5)


async def test_too_large_download_stops_at_the_limit_and_leaves_nothing(
    host: str, storage: Storage
) -> None:
    with pytest.raises(PayloadTooLarge):
        await fetch(storage, f"{host}/endless", limit=1_000_000)
    assert staged_files(storage) == []


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "::ffff:10.0.0.1",
        "169.254.169.254",
        "::127.0.0.1",
        "::ffff:0:127.0.0.1",
        "::ffff:0:10.1.2.3",
        "64:ff9b:1::7f00:1",
        "64:ff9b:1:7f00:1::",
        "2606:4700:1:2:0:5efe:192.168.1.1",
        "2606:4700:1:2:200:5efe:127.0.0.1",
    ],
)
def test_addresses_that_carry_a_private_ipv4_are_not_public(address: str) -> None:
    assert not AddressPolicy().permits(ip_address(address))


def test_public_addresses_are_permitted() -> None:
    assert AddressPolicy().permits(ip_address("8.8.8.8"))
    assert AddressPolicy().permits(ip_address("2606:4700::1111"))
    assert AddressPolicy().permits(ip_address("::ffff:0:8.8.8.8")), "by its IPv4: public"
    assert AddressPolicy().permits(ip_address("64:ff9b::808:808"))
