"""Which URLs and addresses a download may reach.

A capture's URL comes from a client, and the server fetches it from inside
the network: without checks, ``http://169.254.169.254/`` or
``http://localhost:5432/`` would make pixtag a proxy into places only it can
reach (SSRF). So only http and https are fetched, and every address a host
resolves to must be global unicast: private, loopback, link-local,
multicast, reserved and unspecified addresses are refused, also when written
as IPv4-mapped IPv6 (``::ffff:127.0.0.1``) or NAT64/6to4 forms. The resolver
below is the connector's only resolver, so the connection goes to an address
that was checked, never to the answer of a second lookup (DNS rebinding).

``allow`` opens exceptions: CIDRs such as ``10.0.0.0/8``, or host names,
each on every port, or on one port only when it says which
(``10.0.0.5:8080``, ``intranet.example:443``, ``[fd00::/8]:8443``); ``block``
lists domains refused outright, with their subdomains.
"""

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")


class Refused(Exception):
    """The URL or one of its addresses may not be fetched; ``code`` says which rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unwrap(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _is_literal(host: str, address: Address) -> bool:
    """Whether ``host`` is ``address`` written out (no name was resolved)."""
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False


# An allow rule's port, if it names one: "host:port", "cidr:port", "[ipv6 or cidr]:port".
WITH_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<other>[^:\[\]]+)):(?P<port>\d{1,5})$")


def allow_rule(item: str) -> tuple[Network | str, int | None]:
    """An allow entry as (network or host name, port or None for every port); ValueError
    when it is neither."""
    try:
        return ipaddress.ip_network(item, strict=False), None
    except ValueError:
        pass
    port = None
    matched = WITH_PORT.match(item)
    if matched is not None:
        port = int(matched["port"])
        if not 1 <= port <= 65535:
            raise ValueError(f"{item!r}: a port is 1 to 65535")
        item = matched["v6"] or matched["other"]
        try:
            return ipaddress.ip_network(item, strict=False), port
        except ValueError:
            pass
    host = item.lower().rstrip(".")
    if not host or not re.fullmatch(r"[a-z0-9_.-]+", host):
        raise ValueError(f"{item!r} is no CIDR, address or host name (with an optional :port)")
    return host, port


@dataclass(frozen=True)
class Policy:
    """The rules: exceptions to the global-only rule (each on a port, or None: every port),
    and blocked domains."""

    allow_networks: tuple[tuple[Network, int | None], ...] = ()
    allow_hosts: frozenset[tuple[str, int | None]] = frozenset()
    block_domains: frozenset[str] = frozenset()

    @classmethod
    def from_lists(cls, allow: Iterable[str], block: Iterable[str]) -> "Policy":
        networks: list[tuple[Network, int | None]] = []
        hosts: set[tuple[str, int | None]] = set()
        for item in allow:
            rule, port = allow_rule(item)
            if isinstance(rule, str):
                hosts.add((rule, port))
            else:
                networks.append((rule, port))
        domains = frozenset(d.lower().strip(".") for d in block)
        return cls(tuple(networks), frozenset(hosts), domains)

    def check_url(self, url: URL) -> None:
        """Refuse a URL by its scheme, host name or literal address (before any lookup)."""
        if url.scheme not in SCHEMES:
            raise Refused("scheme", f"only http and https URLs are fetched, not {url.scheme!r}")
        host = (url.raw_host or "").lower().rstrip(".")
        if not host:
            raise Refused("host", "the URL has no host")
        if url.user is not None or url.password is not None:
            raise Refused("credentials", "URLs with credentials are not fetched")
        labels = host.split(".")
        for i in range(len(labels)):
            if ".".join(labels[i:]) in self.block_domains:
                raise Refused("blocked_domain", f"the domain {host} is blocked")
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check_address(host, literal, url.port)

    def check_address(self, host: str, address: Address, port: int | None = None) -> None:
        """Refuse an address that is not global unicast, unless allowed (on ``port``)."""
        name = host.lower().rstrip(".")
        if (name, None) in self.allow_hosts or (name, port) in self.allow_hosts:
            return
        for candidate in {address, _unwrap(address)}:
            for network, only in self.allow_networks:
                if candidate in network and only in (None, port):
                    return
        plain = _unwrap(address)
        if not plain.is_global or plain.is_multicast or address.is_multicast:
            literal = _is_literal(host, address)
            where = host if literal else f"{host} resolves to {address}, which"
            raise Refused("refused_address", f"{where} is not a public address")


class CheckedResolver(AbstractResolver):
    """Resolves like the system does, then refuses the host if any address is not allowed."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            self.policy.check_address(host, ipaddress.ip_address(result["host"]), port)
        return results

    async def close(self) -> None:
        await self._resolver.close()
