"""The client's address for the access log: proxy headers are believed from trusted peers only.

With `AGNO_TRUST_PROXY_HEADERS` on, `X-Forwarded-For` is read from the right: each hop appended by
a trusted proxy (`AGNO_TRUSTED_PROXIES`) is skipped, and the first address not in those ranges is
the client (anything left of it was written by the client itself and proves nothing). A peer outside
the ranges is the client, whatever headers it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from service.config import IPNetwork


def _trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str, real_ip: str, networks: Sequence[IPNetwork]) -> str:
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    if hops:
        return hops[0]
    return real_ip.strip() or peer
