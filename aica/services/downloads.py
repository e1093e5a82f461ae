"""Fetching ingested recordings: streamed, size- and time-limited, public addresses only.

Each hop (redirects included) is resolved first and connected to by the address we checked,
so a host cannot pass the check and then resolve somewhere private (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json as json_module
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from aica.config import Settings
from aica.errors import AicaError, PayloadTooLarge
from aica.storage import StagedFile, Storage

MAX_REDIRECTS = 5
IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
_CHUNK = 1 << 16


class DownloadFailed(AicaError):
    """The URL will not give us the recording (refused, 4xx, not audio): retrying won't help."""

    code = "DOWNLOAD_FAILED"


class DownloadUnavailable(Exception):
    """A failure that may pass (timeout, 5xx, connection reset): the job is retried."""


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses always; private ones only when allowed, all or by network."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        """``AICA_ALLOW_PRIVATE_URLS`` and ``AICA_PRIVATE_URL_ALLOWLIST``."""
        networks = settings.private_url_allowlist
        return cls(settings.allow_private_urls, tuple(ipaddress.ip_network(n) for n in networks))

    def permits(self, address: IPAddress) -> bool:
        return (
            all(a.is_global for a in _with_embedded(address))
            or self.allow_private
            or any(address in network for network in self.allowed_networks)
        )


_LOW_32_BITS = (
    ipaddress.ip_network("::/96"),  # IPv4-compatible (deprecated, still routed by some stacks)
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64, well-known prefix
)
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
"""RFC 8215 local-use NAT64: the IPv4 sits where the local prefix length puts it, so the
whole range counts as private (nothing public is reached through it anyway)."""
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)


def _with_embedded(address: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address it carries (mapped, compatible, translated, 6to4,
    NAT64, ISATAP), which Python calls global although it may reach a private host."""
    found: list[IPAddress] = [address]
    if isinstance(address, IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour):
            if inner is not None:
                found.append(inner)
        low = IPv4Address(int(address) & 0xFFFFFFFF)
        isatap = (int(address) >> 32) & 0xFFFFFFFF in _ISATAP_IDS
        if isatap or any(address in network for network in _LOW_32_BITS):
            found.append(low)
        if address in _LOCAL_NAT64:
            found.append(IPv4Address("0.0.0.0"))  # never global
    return found


async def _checked_address(host: str, port: int, policy: AddressPolicy) -> str:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DownloadUnavailable(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    refused = [a for a in addresses if not policy.permits(a)]
    if refused:
        raise DownloadFailed(
            f"Refused to download from {host}: it resolves to a non-public address ({refused[0]})"
        )
    return str(addresses[0])


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, object]]:
    """The URL with its host replaced by ``address``; Host header and TLS name keep the host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    pinned = parts._replace(netloc=netloc).geturl()
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return pinned, {"Host": host_header}, {"sni_hostname": host}


async def _open(
    client: httpx.AsyncClient,
    url: str,
    policy: AddressPolicy,
    json: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET (or POST ``json`` / ``content``) ``url``, checking every hop; POSTs are not
    redirected."""
    method = "GET" if json is None and content is None else "POST"
    for _ in range(MAX_REDIRECTS + 1):
        address = await check_url(url, policy)
        pinned, host, extensions = _pinned(url, address)
        request = client.build_request(
            method,
            pinned,
            headers={**(headers or {}), **host},
            extensions=extensions,
            json=json,
            content=content,
        )
        response = await client.send(request, stream=True)
        if response.is_redirect and "location" in response.headers and method == "GET":
            await response.aclose()
            url = urljoin(url, response.headers["location"])
            continue
        return response
    raise DownloadFailed(f"More than {MAX_REDIRECTS} redirects")


@contextlib.asynccontextmanager
async def _fetching(
    url: str, policy: AddressPolicy, time_limit: float, what: str, json: Any = None
) -> AsyncIterator[httpx.Response]:
    """A checked, open response, all within ``time_limit``; passing failures (timeouts,
    transport errors, 5xx) become ``DownloadUnavailable`` so the job is retried."""
    try:
        async with asyncio.timeout(time_limit), httpx.AsyncClient(timeout=time_limit) as client:
            response = await _open(client, url, policy, json=json)
            try:
                _raise_for_status(response)
                yield response
            finally:
                await response.aclose()
    except TimeoutError:
        raise DownloadUnavailable(f"{what} timed out after {time_limit:g} s") from None
    except httpx.TransportError as exc:
        raise DownloadUnavailable(f"{what} failed: {type(exc).__name__}: {exc}") from exc


async def download(
    url: str,
    storage: Storage,
    *,
    limit: int,
    time_limit: float,
    policy: AddressPolicy,
) -> StagedFile:
    """Stream ``url`` into staging; the caller owns the staged file."""
    async with _fetching(url, policy, time_limit, "Download") as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The recording is larger than {limit} bytes")
        return await storage.stage(_body(response), limit)


async def post_json(url: str, payload: Any, *, time_limit: float, policy: AddressPolicy) -> Any:
    """Call a JSON API (a CRM's REST method) under the same address policy as downloads."""
    async with _fetching(url, policy, time_limit, "Request", json=payload) as response:
        body = await response.aread()
    try:
        return json_module.loads(body)
    except ValueError:
        raise DownloadFailed("The server's answer is not JSON") from None


async def post(
    url: str, content: bytes, headers: dict[str, str], *, time_limit: float, policy: AddressPolicy
) -> int:
    """POST ``content`` (a webhook) under the address policy; the answer's status code.

    Connection failures and timeouts raise ``DownloadUnavailable``; a refused address
    ``DownloadFailed``. Redirects are not followed (the status is returned)."""
    try:
        async with asyncio.timeout(time_limit), httpx.AsyncClient(timeout=time_limit) as client:
            response = await _open(client, url, policy, content=content, headers=headers)
            await response.aclose()
            return response.status_code
    except TimeoutError:
        raise DownloadUnavailable(f"no answer within {time_limit:g} s") from None
    except httpx.TransportError as exc:
        raise DownloadUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def check_url(url: str, policy: AddressPolicy) -> str:
    """The address to connect to for ``url``; refuses other schemes and refused addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadFailed(f"Only http(s) URLs are allowed, not {url[:200]!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DownloadFailed("The URL's port is not a number") from None
    return await _checked_address(parts.hostname, port, policy)


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise DownloadUnavailable(f"HTTP {response.status_code} from the server")
    if response.status_code >= 400:
        raise DownloadFailed(f"HTTP {response.status_code} from {response.url.path}")


async def _body(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_bytes(_CHUNK):
        yield chunk
