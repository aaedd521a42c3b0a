"""Where the server's own requests may go (the gateway's SSRF guard), over connections pinned to the checked address.

Tenants choose webhook URLs and MMS media URLs; the server then makes requests to them. In gateway
mode a destination that is loopback, private, link-local, unspecified, multicast or reserved (also
hidden in an IPv4-mapped, 6to4, Teredo or NAT64 address) is refused unless its host is allow-listed.
The check happens twice: when a URL is written (no DNS: literal addresses, `localhost`, names the
hosts file maps to such addresses), and when connecting, on the addresses the name resolves to.
The connection then goes to exactly the address that was checked, so a DNS answer that changes in
between (rebinding) cannot slip through. The sandbox allows every destination.

    guard = DestinationGuard.build(enabled=True, allowed="hooks.corp.example,10.8.0.0/16")
    guard.refusal("http://127.0.0.1:9000/")             # -> why not, or None (write time, no DNS)
    aiohttp.TCPConnector(resolver=guard.aiohttp_resolver())
    httpx.AsyncClient(transport=guard.httpx_transport(), trust_env=False)
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import typing
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from heliograph.domain.errors import InvalidUrl
from heliograph.domain.urls import is_public_address

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
HOSTS_FILE = "/etc/hosts"
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(OSError):
    """The destination is not one the gateway sends to; the text says why (safe to show the tenant)."""


def parse_ip(host: str) -> IPAddress | None:
    """The address a host string stands for, including the legacy IPv4 forms (`2130706433`, `127.1`)
    that the C resolver accepts; None for a name."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(part.isalnum() for part in host.split(".")) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    inner = embedded_ipv4(ip)
    return is_public_address(str(ip)) and (inner is None or is_public_address(str(inner)))


@dataclass
class _HostsFile:
    """Names the hosts file maps to non-public addresses, re-read when the file changes."""

    path: str = HOSTS_FILE
    _mtime: float | None = None
    _names: frozenset[str] = frozenset()

    def private_names(self) -> frozenset[str]:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return frozenset()
        if mtime != self._mtime:
            names: set[str] = set()
            try:
                with open(self.path, encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        fields = line.split("#", 1)[0].split()
                        if len(fields) >= 2 and (ip := parse_ip(fields[0])) is not None and not is_public(ip):
                            names.update(name.lower().rstrip(".") for name in fields[1:])
            except OSError:
                return self._names
            self._mtime, self._names = mtime, frozenset(names)
        return self._names


@dataclass
class DestinationGuard:
    """Decides whether the server may send a request to a host; disabled (the sandbox) it allows all."""

    enabled: bool
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    hosts_file: _HostsFile = field(default_factory=_HostsFile)

    @classmethod
    def build(cls, *, enabled: bool, allowed: str = "") -> DestinationGuard:
        """`allowed`: comma-separated host names, addresses and networks (`hooks.local,10.0.0.5,10.8.0.0/16`)."""
        names, networks = set(), []
        for item in (part.strip().lower().rstrip(".") for part in allowed.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                names.add(item)
        return cls(enabled, frozenset(names), tuple(networks))

    def listed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host in self.allowed_names:
            return True
        ip = parse_ip(host)
        return ip is not None and self.address_listed(ip)

    def address_listed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allowed_networks)

    def address_allowed(self, address: str) -> bool:
        ip = parse_ip(address)
        return ip is not None and (is_public(ip) or self.address_listed(ip))

    def refusal(self, url: str) -> str | None:
        """Why the URL's host is refused, judged without DNS (when a URL is written); None = fine for now."""
        if not self.enabled:
            return None
        try:
            host = (urlsplit(url).hostname or "").lower().rstrip(".")
        except ValueError:
            return "The URL cannot be parsed."
        if not host or self.listed(host):
            return None
        ip = parse_ip(host)
        if ip is not None:
            if not is_public(ip):
                return f"{host} is a loopback, private or reserved address, which the gateway does not send to."
            return None
        if host == "localhost" or host.endswith(".localhost") or host in self.hosts_file.private_names():
            return f"{host} names a loopback or private address, which the gateway does not send to."
        return None

    async def resolve(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> list[tuple[int, str]]:
        """Resolve once and check every address: [(family, address)] to connect to, or DestinationRefused."""
        ip = parse_ip(host)
        if ip is not None:
            infos: list[tuple[int, str]] = [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))]
        else:
            try:
                found = await asyncio.get_running_loop().getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise OSError(exc.errno, f"Could not resolve {host}: {exc.strerror}") from None
            infos = [(info[0], str(info[4][0])) for info in found]
        self.check_addresses(host, [address for _, address in infos])
        return infos

    def check_addresses(self, host: str, addresses: list[str]) -> None:
        if not self.enabled or self.listed(host):
            return
        for address in addresses:
            if not self.address_allowed(address):
                raise DestinationRefused(
                    f"{host} resolves to {address}, a loopback, private or reserved address, "
                    "which the gateway does not send to."
                )

    # --- pinned clients ---------------------------------------------------------------------------

    def aiohttp_resolver(self) -> AbstractResolver:
        """For aiohttp.TCPConnector(resolver=…): it connects to the addresses this returns, all checked.
        (aiohttp skips resolvers for literal addresses: check those with `refusal` first.)"""
        return _PinnedResolver(self)

    def httpx_transport(self, **kwargs: typing.Any) -> httpx.AsyncHTTPTransport:
        """An httpx transport whose connections resolve through the guard and connect to the checked address;
        TLS still verifies the URL's host name. Use it with trust_env=False (a proxy would bypass the pin)."""
        transport = httpx.AsyncHTTPTransport(trust_env=False, **kwargs)
        # httpcore takes a network backend per pool; httpx does not expose the argument
        transport._pool._network_backend = _PinnedBackend(self)
        return transport


class _PinnedResolver(AbstractResolver):
    """aiohttp asks this for the addresses to connect to: the guard's checked answer, numeric, so
    nothing resolves the name again."""

    def __init__(self, guard: DestinationGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=found_family,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for found_family, address in await self._guard.resolve(host, port, family)
        ]

    async def close(self) -> None:
        pass


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: DestinationGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.resolve(host, port)
        except DestinationRefused:
            raise
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        last: Exception | None = None
        for _, address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"No address to connect to for {host}.")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused("Unix sockets are not a destination.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def webhook_guard(ctx: typing.Any) -> DestinationGuard:
    """The guard for webhook URLs (HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS), built once per context."""
    guard = getattr(ctx, "_webhook_guard", None)
    if guard is None:
        settings = ctx.settings
        guard = DestinationGuard.build(enabled=settings.mode == "gateway", allowed=settings.webhook_allowed_hosts)
        ctx._webhook_guard = guard
    return guard


def check_webhook_urls(
    ctx: typing.Any, values: dict[str, typing.Any], names: tuple[str, ...] = ("webhook_url", "webhook_failover_url")
) -> None:
    """When a webhook URL is written: refuse loopback and private hosts (gateway; 422 10003 with its pointer)."""
    guard = webhook_guard(ctx)
    for name in names:
        value = values.get(name)
        if isinstance(value, str) and value and (refusal := guard.refusal(value)):
            raise InvalidUrl(
                f"'{name}' is not allowed: {refusal} (HELIOGRAPH_WEBHOOK_ALLOWED_HOSTS lists exceptions).",
                pointer=f"/{name}",
            )


def media_guard(settings: typing.Any) -> DestinationGuard:
    """The guard for MMS media URLs (HELIOGRAPH_MEDIA_ALLOWED_HOSTS)."""
    return DestinationGuard.build(enabled=settings.mode == "gateway", allowed=settings.media_allowed_hosts)
