"""Whether a server address keeps file text on this computer or the local network.

    plain_http_leaves_lan("http://203.0.113.5:8080")   # True: ask before sending text there

File text sent over plain http can be read by anyone on the way. On loopback or a private LAN
address (10/8, 172.16/12, 192.168/16, fc00::/7, link-local) that is the user's own network; a
name that is not an address counts as local only for localhost and the LAN suffixes (.local,
.lan, .home.arpa, .internal). Everything else over http asks first; https is verified.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LAN_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal")


def server_address(url: str) -> str:
    """`url` as qfinder keeps it: one spelling per server for its settings, key and cached facts."""
    return url.strip().rstrip("/")


def plain_http_leaves_lan(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme != "http" or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(LAN_SUFFIXES):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a public name: its traffic crosses networks qfinder cannot vouch for
    return not (address.is_loopback or address.is_private or address.is_link_local)
