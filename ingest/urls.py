"""Canonical URLs and the ids derived from them.

A document's id is a hash of its canonical URL, so the same article reached as
`HTTPS://Example.com:443/a?utm_source=x#top` and `https://example.com/a` is one document.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vectorstore.records import SHARED

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that identify a campaign or a click, never the content.
_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_hsenc", "_hsmi", "mkt_tok", "ref_src", "ref_url", "cmpid", "ncid", "guccounter", "sr_share", "smid",
    "oly_enc_id", "oly_anon_id", "vero_id", "spm", "share", "s_cid", "__twitter_impression",
}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(("utm_", "pk_", "mtm_", "hsa_")) or lowered in _TRACKING


def canonical_url(url: str) -> str:
    """Lowercased scheme and host, default port dropped, fragment and tracking parameters removed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    return urlunsplit((scheme, netloc, path, query, ""))


def doc_id_for(url: str, library: str = SHARED) -> str:
    """The document id of a URL in a library: stable across spellings of the same canonical URL. The shared
    library's ids are those of stores made before libraries existed, so such a store needs no new ids."""
    key = canonical_url(url) if library == SHARED else f"{library}\n{canonical_url(url)}"
    return "d" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:31]


def site_host(url: str) -> str:
    """The host without a leading www., for display when a page names no site."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
