"""Where a webhook may go: never into Studio's own network.

A `webhook_url` is checked twice. At submit time (`check_submit_url`), without DNS so a
submit never waits on a resolver: literal addresses and names that can only be local
(`localhost`, `*.internal`, …) are refused with a 400 `invalid_webhook_url`. At delivery
(`resolve_public`), the host is resolved and refused if ANY of its addresses is
loopback, link-local (169.254.169.254 included), private, shared (CGNAT), multicast,
reserved or unspecified — IPv4-mapped and other embedded IPv4 forms are unwrapped first.
The delivery then connects to exactly the addresses vetted here, so a DNS answer that
changes between check and connect (rebinding) is never used.

`STUDIO_WEBHOOK_ALLOW_PRIVATE=1` turns both checks off (local development, tests).
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from django.conf import settings

from generations.specs import SpecError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that only ever mean "somewhere inside": RFC 6761 localhost, mDNS, common internal zones.
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# getaddrinfo has no timeout of its own: it runs here, and a delivery stops waiting for it.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


class AddressRefused(Exception):
    """The URL points somewhere Studio must not send to. Final: never retried."""


class ResolutionFailed(Exception):
    """The host did not resolve (now). Transient: the delivery is retried."""


def allow_private() -> bool:
    return bool(settings.STUDIO_WEBHOOK_ALLOW_PRIVATE)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one: mapped, 6to4, Teredo, NAT64."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet, false for anything local or special."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
            return is_public(ip.ipv4_mapped)
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
        if ip.scope_id:
            return False
    special = (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )
    return ip.is_global and not special


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host spells directly, including legacy IPv4 forms (`127.1`, `0x7f000001`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".")


def refusal(url: str) -> str:
    """Why `url` may not receive webhooks, judged without DNS; "" when it may."""
    host = _host(url)
    if not host:
        return "webhook_url has no host."
    address = literal_address(host)
    if address is not None and not is_public(address):
        return (
            f"webhook_url points to {address}, a private, loopback, link-local or reserved address. "
            "Webhooks are only sent to public internet addresses."
        )
    if address is None and is_local_name(host):
        return f"webhook_url host {host!r} is a local name. Webhooks are only sent to public internet addresses."
    return ""


def check_submit_url(url: str, field: str = "webhook_url") -> None:
    """Refuse, at submit time, a webhook URL that can only point inside (SpecError -> 400)."""
    if not url or allow_private():
        return
    reason = refusal(url)
    if reason:
        if field != "webhook_url":
            reason = f"{field}: {reason}"
        raise SpecError("invalid_webhook_url", "webhook_url", reason)


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def resolve(host: str, port: int, *, timeout: float) -> list[IPAddress]:
    """The host's addresses (a literal address is its own), waiting at most `timeout` seconds."""
    address = literal_address(host)
    if address is not None:
        return [address]
    future = _resolver.submit(_getaddrinfo, host, port)
    try:
        found = future.result(timeout=timeout)
    except FutureTimeout as exc:
        raise ResolutionFailed(f"DNS lookup of {host} timed out after {timeout:g} s.") from exc
    except (OSError, UnicodeError) as exc:
        raise ResolutionFailed(f"DNS lookup of {host} failed: {exc}.") from exc
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    if not addresses:
        raise ResolutionFailed(f"DNS lookup of {host} returned no addresses.")
    return addresses


def resolve_public(url: str, *, timeout: float) -> list[IPAddress]:
    """The addresses to connect to for `url`, every one of them vetted.

    Raises AddressRefused when any is not public (unless private targets are allowed),
    ResolutionFailed when the name does not resolve.
    """
    parts = urlsplit(url)
    host = _host(url)
    if parts.scheme not in ("http", "https") or not host:
        raise AddressRefused("The webhook URL is not an absolute http(s) URL.")
    if allow_private():
        return resolve(host, parts.port or (443 if parts.scheme == "https" else 80), timeout=timeout)
    reason = refusal(url)
    if reason:
        raise AddressRefused(f"Refused before sending: {reason} Nothing was sent.")
    addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80), timeout=timeout)
    bad = [str(a) for a in addresses if not is_public(a)]
    if bad:
        raise AddressRefused(
            f"Refused: {host} resolves to {', '.join(bad)}, which is not a public internet address. Nothing was sent."
        )
    return addresses
