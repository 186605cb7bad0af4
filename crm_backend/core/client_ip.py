"""The client address a request counts against (login rate limit, audit), proxy-aware only when configured."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request

from crm_backend.core.config import Settings

# Stands for every request that carries X-Forwarded-For while no proxy is trusted. uvicorn (proxy
# headers are on by default for 127.0.0.1) may already have put the forged address into the peer,
# so neither can be believed: such requests share one rate-limit bucket instead of dodging it.
UNTRUSTED_FORWARDED = "untrusted-forwarded"


@lru_cache
def _networks(trusted_proxies: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip(), strict=False) for part in trusted_proxies.split(",") if part.strip())


def _trusted(host: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_ip(request: Request, settings: Settings) -> str:
    """The peer address; X-Forwarded-For is read only when the peer is a configured proxy.

    The header is walked from the right (the entry our proxy appended) and the first address that is
    not itself a trusted proxy wins, so entries a client wrote on the left are never believed.
    """
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    networks = _networks(settings.trusted_proxies)
    if not networks:
        return UNTRUSTED_FORWARDED if forwarded is not None else peer
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in (forwarded or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return peer
