"""Every way a URL can point newsdesk at its own network, through the real pipeline: refused with the
exact sentence the admin sees, no connection to the internal service, and the store untouched."""

from __future__ import annotations

import pytest

from ingest.errors import BadURLError, BlockedAddressError
from ingest.fetch import GuardedClient
from tests.hostile.conftest import FakeDNS, RoutingOpener, Snapshot, fetch_settings, only, refused
from tests.hostile.corpus import ARTICLE_TEXT, HTML, page

pytestmark = pytest.mark.asyncio

BLOCKED = "{url} resolves to {article} {reason} address ({address}); newsdesk only fetches public addresses."


def blocked(url: str, reason: str, address: str) -> str:
    return BLOCKED.format(url=url, article="an" if reason[0] in "aeiou" else "a", reason=reason, address=address)


# (url with {port} = the internal service's port, why it is refused, the address it denotes)
ADDRESS_FORMS = [
    ("http://2130706433:{port}/", "loopback", "127.0.0.1"),  # decimal
    ("http://0x7f000001:{port}/", "loopback", "127.0.0.1"),  # hex
    ("http://0177.0.0.1:{port}/", "loopback", "127.0.0.1"),  # octal
    ("http://127.1:{port}/", "loopback", "127.0.0.1"),  # short
    ("http://0x7f.1:{port}/admin", "loopback", "127.0.0.1"),  # mixed hex and short
    ("http://127.0.0.1.:{port}/", "loopback", "127.0.0.1"),  # trailing dot
    ("http://１２７.０.０.１:{port}/", "loopback", "127.0.0.1"),  # full-width digits (IDNA maps them)
    ("http://0:{port}/", "unspecified", "0.0.0.0"),  # reaches the local host on Linux
    ("http://[::1]:{port}/", "loopback", "::1"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback", "::ffff:7f00:1"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]:{port}/", "loopback", "::ffff:7f00:1"),  # mapped, in hex
    ("http://[::127.0.0.1]:{port}/", "loopback", "::7f00:1"),  # IPv4-compatible
    ("http://[64:ff9b::7f00:1]:{port}/", "loopback", "64:ff9b::7f00:1"),  # NAT64
    ("http://[2002:7f00:1::]:{port}/", "loopback", "2002:7f00:1::"),  # 6to4
    ("http://169.254.169.254/latest/meta-data/iam/", "link-local", "169.254.169.254"),  # cloud metadata
    ("http://2852039166/latest/meta-data/", "link-local", "169.254.169.254"),  # ... as a decimal
    ("http://[::ffff:a9fe:a9fe]/latest/meta-data/", "link-local", "::ffff:a9fe:a9fe"),  # ... IPv4-mapped
    ("http://10.0.0.1/", "private", "10.0.0.1"),
    ("http://172.16.5.4:8080/", "private", "172.16.5.4"),
    ("http://192.168.1.1/admin", "private", "192.168.1.1"),
    ("http://100.64.0.1/", "shared (carrier-grade NAT)", "100.64.0.1"),
    ("http://[fd00::1]/", "private", "fd00::1"),
    ("http://[fe80::1]/", "link-local", "fe80::1"),
]


@pytest.mark.parametrize(("form", "reason", "address"), ADDRESS_FORMS, ids=[f[0].split("/")[2].replace(":{port}", "") for f in ADDRESS_FORMS])
async def test_every_form_of_an_internal_address_is_refused(services, canary, form, reason, address):
    url = form.format(port=canary.port)
    await refused(services, url, BlockedAddressError, blocked(url, reason, address))


DNS_ANSWERS = [
    ("intranet.example", ["10.0.0.5"], "private", "10.0.0.5"),
    ("mixed.example", ["93.184.216.34", "127.0.0.1"], "loopback", "127.0.0.1"),  # one bad answer is enough
    ("six.example", ["::1"], "loopback", "::1"),
    ("metadata.example", ["::ffff:169.254.169.254"], "link-local", "::ffff:a9fe:a9fe"),
    ("cgnat.example", ["100.100.100.200"], "shared (carrier-grade NAT)", "100.100.100.200"),  # Alibaba metadata
]


@pytest.mark.parametrize(("name", "answer", "reason", "address"), DNS_ANSWERS, ids=[d[0] for d in DNS_ANSWERS])
async def test_a_name_answering_an_internal_address_is_refused_before_any_connection(
    services, canary, name, answer, reason, address
):
    dns = FakeDNS({name: answer})
    opener = RoutingOpener()
    url = f"http://{name}:{canary.port}/"
    async with GuardedClient(fetch_settings(), resolver=dns, opener=opener) as client:
        await refused(services, url, BlockedAddressError, blocked(url, reason, address), client=client)
    assert opener.opened == []
    assert name in dns.lookups


async def test_a_redirect_chain_ending_inside_is_refused_at_the_last_hop(services, site, canary, route):
    inside = f"http://127.0.0.1:{canary.port}/admin"
    route("/chain/1", (302, {"Location": "/chain/2"}, b""))
    route("/chain/2", (301, {"Location": site.url("/chain/3")}, b""))
    route("/chain/3", (307, {"Location": inside}, b""))
    await refused(services, site.url("/chain/1"), BlockedAddressError, blocked(inside, "loopback", "127.0.0.1"))
    assert [p for p in site.paths() if p.startswith("/chain/")][-3:] == ["/chain/1", "/chain/2", "/chain/3"]


async def test_a_redirect_to_the_cloud_metadata_service_is_refused(services, route):
    target = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    url = route("/to-metadata", (302, {"Location": target}, b""))
    await refused(services, url, BlockedAddressError, blocked(target, "link-local", "169.254.169.254"))


async def test_a_redirect_to_a_name_answering_loopback_is_refused(services, site, canary, route):
    target = f"http://internal.example:{canary.port}/"
    url = route("/to-internal-name", (302, {"Location": target}, b""))
    dns = FakeDNS({"internal.example": "127.0.0.1"})
    async with GuardedClient(fetch_settings(only(site)), resolver=dns, opener=RoutingOpener()) as client:
        await refused(services, url, BlockedAddressError, blocked(target, "loopback", "127.0.0.1"), client=client)
    assert dns.lookups == ["internal.example", "internal.example"]  # its robots.txt, then the page: both refused


async def test_dns_rebinding_between_connections_is_refused(services, canary, http_server_factory):
    """The name answers a public address first (203.0.113.7, declared public here and routed to a loopback
    server), then loopback. The redirect needs a new connection, whose lookup is checked again."""
    public = http_server_factory({"/start": (301, {"Location": "/next", "Connection": "close"}, b"")})
    dns = FakeDNS({"rebind.example": [["203.0.113.7"], ["127.0.0.1"]]})
    opener = RoutingOpener({"203.0.113.7": public})
    settings = fetch_settings("203.0.113.7/32", respect_robots=False)
    url = f"http://rebind.example:{canary.port}/start"
    async with GuardedClient(settings, resolver=dns, opener=opener) as client:
        await refused(services, url, BlockedAddressError,
                      blocked(f"http://rebind.example:{canary.port}/next", "loopback", "127.0.0.1"), client=client)
    assert public.paths() == ["/start"]
    assert opener.opened == [("203.0.113.7", canary.port)]  # the checked address itself, never the name


NOT_WEB = "{url} is not a web link; newsdesk only fetches http:// and https:// pages."
CREDENTIALS = "newsdesk does not fetch links with a user name or password in them (user:pass@)."

BAD_URLS = [
    ("http://admin:hunter2@127.0.0.1:{port}/", CREDENTIALS),
    ("http://admin@127.0.0.1:{port}/", CREDENTIALS),
    ("https://user:pass@aiwire.example/2026/03/12/rubin", CREDENTIALS),
    ("file:///etc/passwd", NOT_WEB),
    ("ftp://127.0.0.1:{port}/pub", NOT_WEB),
    ("gopher://127.0.0.1:{port}/_SET%20x%201", NOT_WEB),
    ("dict://127.0.0.1:{port}/info", NOT_WEB),
    ("javascript:alert(document.cookie)", NOT_WEB),
    ("data:text/html,<script>alert(1)</script>", NOT_WEB),
    ("jar:http://127.0.0.1:{port}/x.jar!/", NOT_WEB),
]


@pytest.mark.parametrize(("form", "message"), BAD_URLS, ids=[u[0].split(":")[0] + str(i) for i, u in enumerate(BAD_URLS)])
async def test_credentials_and_other_schemes_are_refused(services, canary, form, message):
    url = form.format(port=canary.port)
    await refused(services, url, BadURLError, message.format(url=url))


async def test_a_header_injection_in_the_url_is_refused(services, canary):
    url = f"http://127.0.0.1:{canary.port}/\r\nHost: internal\r\n"
    await refused(services, url, BadURLError, f"{url.strip()!r} contains control characters, so it is not a link newsdesk fetches.")


async def test_a_redirect_to_a_file_url_is_refused(services, route):
    url = route("/to-file", (302, {"Location": "file:///etc/passwd"}, b""))
    await refused(services, url, BadURLError, NOT_WEB.format(url="file:///etc/passwd"))


async def test_a_redirect_adding_credentials_is_refused(services, canary, route):
    url = route("/to-creds", (302, {"Location": f"http://admin:admin@127.0.0.1:{canary.port}/"}, b""))
    await refused(services, url, BadURLError, CREDENTIALS)


async def test_the_allowed_site_itself_still_works(services, route):
    """The control: the same pipeline and store take a real article from the allowed port."""
    url = route("/news/control", (200, HTML, page("Mistral raises 600 million euros", ARTICLE_TEXT)))
    before = Snapshot.of(services)
    result = await services.pipeline.ingest_url(url)
    try:
        assert result.status == "new" and Snapshot.of(services).document_count == before.document_count + 1
    finally:
        services.pipeline.forget(result.url)
    assert Snapshot.of(services) == before
