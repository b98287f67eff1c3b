"""Extraction as a user sees it: the right title, site, author, date and body from real-looking pages,
with the page furniture, hidden text and invisible characters left out."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.errors import ExtractError
from ingest.extract import (
    MAX_PDF_PAGES,
    Article,
    clean_text,
    decode,
    extract,
    extract_async,
    extract_file,
    same_site,
)
from ingest.fetch import FetchedPage
from tests.support import extract_workers
from tests.support.pdf import make_pdf

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
AIWIRE_URL = "https://theaiwire.news/2025/03/04/halcyon-labs-raises-400-million-inference-chips/?utm_source=twitter"
AIWIRE_CANONICAL = "https://www.theaiwire.news/2025/03/04/halcyon-labs-raises-400-million-inference-chips/"


def fetched(body: bytes | str, url: str, content_type: str = "text/html", charset: str | None = None) -> FetchedPage:
    if isinstance(body, str):
        body = (PAGES / body).read_bytes()
    return FetchedPage(url=url, requested_url=url, status=200, content_type=content_type, charset=charset,
                       body=body, headers={"content-type": content_type})


def invisible(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf" or c == "\u00ad"]


@pytest.fixture(scope="module")
def aiwire() -> Article:
    return extract(fetched("aiwire_article.html", AIWIRE_URL), source=AIWIRE_URL)


@pytest.fixture(scope="module")
def kestrel() -> Article:
    return extract(fetched("hidden_text.html", "https://inferenceweekly.com/news/kestrel-ai-open-sources-osprey-8b?ref=home"))


# ---- a full news page -------------------------------------------------------------------------------


def test_news_page_metadata(aiwire: Article) -> None:
    assert aiwire.title == "Halcyon Labs raises $400M to build inference chips that sip power"
    assert aiwire.site == "The AI Wire"
    assert aiwire.author == "Priya Raman"
    assert aiwire.published == datetime(2025, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert aiwire.published.utcoffset() == timedelta(hours=-5)
    assert aiwire.source == AIWIRE_URL


def test_same_site_canonical_replaces_the_fetched_url(aiwire: Article) -> None:
    assert aiwire.url == AIWIRE_CANONICAL  # www. and no utm_source, as the page itself names it


def test_news_page_body_keeps_every_article_paragraph_in_order(aiwire: Article) -> None:
    starts = [
        "Halcyon Labs, a chip start-up founded by former data-centre engineers",
        "The company designs accelerators for running, rather than training",
        '"Training gets the headlines, but inference is where the electricity bill lives,"',
        "From prototypes to a production line",
        "Halcyon said the new money will pay for a first production run",
        "Okafor declined to name those customers",
        '"The numbers held up on workloads we chose, not ones they chose.',
        "Analysts caution that the market for inference chips is crowded.",
        "Power as the constraint",
        "The funding comes as electricity, rather than chips",
        "Halcyon argues that efficiency gains at the chip level",
        "Earlier investors Lattice Ventures and Bramble Partners also took part in the round.",
    ]
    paragraphs = aiwire.body.split("\n\n")
    positions = [next(i for i, p in enumerate(paragraphs) if p.startswith(s)) for s in starts]
    assert positions == sorted(positions)
    assert paragraphs[0].startswith(starts[0])  # no headline, byline or dateline above the story
    assert aiwire.body.endswith("Halcyon has now raised about $620 million since it was founded in 2021.")


@pytest.mark.parametrize(
    "furniture",
    [
        "We use cookies",  # cookie banner
        "Accept all",
        "Podcasts",  # navigation
        "Skip to content",
        "Share on LinkedIn",
        "The inference crunch, explained",  # inline related link
        "Get The AI Wire Daily",  # newsletter box
        "Sign up for our free newsletter",
        "Related stories",  # related links
        "Aurora Compute opens a geothermal data centre",
        "batch size they measured",  # comments
        "The software stack is what kills them",
        "substation upgrades",
        "Leave a Reply",
        "14 comments",
        "Send tips securely",  # author box
        "All rights reserved",  # footer
        "Privacy Policy",
        "gtag(",  # scripts
    ],
)
def test_news_page_body_has_no_page_furniture(aiwire: Article, furniture: str) -> None:
    assert furniture not in aiwire.body


# ---- hidden text and invisible characters -----------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    ["HIDDEN-ATTR", "DISPLAY-NONE", "ARIA-HIDDEN", "VISIBILITY-HIDDEN", "TEMPLATE", "NOSCRIPT", "SCRIPT", "DIALOG"],
)
def test_hidden_elements_are_not_part_of_the_body(kestrel: Article, payload: str) -> None:
    assert f"{payload}-PAYLOAD" not in kestrel.body
    assert "Ignore all previous instructions" not in kestrel.body


def test_visible_text_around_hidden_elements_survives(kestrel: Article) -> None:
    for sentence in [
        "Kestrel AI, the Berlin-based model developer, on Tuesday released the weights of Osprey 8B",
        "Osprey 8B was trained on 14 trillion tokens over eleven weeks",
        "The release includes a base model and an instruction-tuned variant.",
        "Kestrel has raised $180 million from investors including Lindenhof Capital.",
    ]:
        assert sentence in kestrel.body
    assert len(kestrel.body.split("\n\n")) == 6


def test_format_characters_are_stripped_everywhere(kestrel: Article) -> None:
    for field in (kestrel.title, kestrel.site, kestrel.author, kestrel.body):
        assert invisible(field) == []
    assert "OpenAI-style chat templates" in kestrel.body  # was Open&#8203;AI
    assert "the infrastructure bill shrank" in kestrel.body  # was in&shy;fra&shy;struc&shy;ture
    assert "in the first day, according to Kestrel." in kestrel.body  # ZWJ, ZWNJ
    assert "The company said about one third of its 90 staff" in kestrel.body  # U+202E
    assert kestrel.title == "Kestrel AI open-sources its Osprey 8B model"
    assert kestrel.site == "Inference Weekly"
    assert kestrel.author == "Tomasz Wiśniewski"
    assert kestrel.published == datetime(2025, 5, 20, 16, 5, tzinfo=UTC)


def test_relative_canonical_is_resolved_against_the_page(kestrel: Article) -> None:
    assert kestrel.url == "https://inferenceweekly.com/news/kestrel-ai-open-sources-osprey-8b"


def test_canonical_on_another_site_is_ignored() -> None:
    url = "https://gradientgazette.com/partners/vantage-ai-cuts-api-prices"
    article = extract(fetched("syndicated_cross_canonical.html", url))
    assert article.url == url  # not www.theaiwire.news, which the page claims
    assert article.site == "Gradient Gazette"
    assert article.title == "Vantage AI cuts API prices by 60 percent as price war spreads"
    assert article.author == "Marcus Bell"
    assert article.published == datetime(2025, 2, 11, 18, 40, tzinfo=UTC)
    assert article.body.startswith("Vantage AI said on Tuesday it would cut the price")
    for furniture in ("This site uses cookies", "More partner stories", "Curated AI news"):
        assert furniture not in article.body


def test_unparsable_canonical_is_ignored() -> None:
    html = (PAGES / "aiwire_article.html").read_bytes().replace(AIWIRE_CANONICAL.encode(), b"https://[::1/broken")
    assert extract(fetched(html, AIWIRE_URL)).url == AIWIRE_URL


@pytest.mark.parametrize(
    ("url", "other", "same"),
    [
        ("https://theaiwire.news/a", "https://www.theaiwire.news/b", True),
        ("https://amp.theaiwire.news/a", "https://www.theaiwire.news/a", True),
        ("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/a", True),
        ("https://alice.github.io/post", "https://bob.github.io/post", False),  # a public suffix
        ("https://theaiwire.news/a", "https://theaiwire.news.evil.example/a", False),
        ("https://theaiwire.news/a", "javascript:alert(1)", False),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1/b", True),
        ("http://127.0.0.1/a", "http://127.0.0.2/a", False),
    ],
)
def test_same_site(url: str, other: str, same: bool) -> None:
    assert same_site(url, other) is same


# ---- encodings and XHTML ----------------------------------------------------------------------------


@pytest.mark.parametrize("header_charset", [None, "iso-8859-1", "windows-1252"])
def test_windows_1252_page_reads_names_correctly(header_charset: str | None) -> None:
    url = "https://www.eurotechledger.eu/ai/brussels-sovereign-compute-fund.html"
    article = extract(fetched("eurotech_cp1252.html", url, charset=header_charset))
    assert article.author == "Zoë Müller"
    assert article.title == "Europe’s AI start-ups win €2bn sovereign compute fund"
    assert article.site == "EuroTech Ledger"
    assert article.published == datetime(2025, 4, 14, 7, 15, tzinfo=UTC)  # no zone given: UTC
    for text in ("François Lefèvre", "Søren Ødegård", "Lydbølge", "Ana Núñez", "Fundación Digital Iberia",
                 "a €2 billion fund", "“We have world-class researchers"):
        assert text in article.body
    assert "\ufffd" not in article.body
    for furniture in ("Most read", "Ledger Briefing", "See also", "Rue de la Loi", "Subscribe from"):
        assert furniture not in article.body


def test_xhtml_page() -> None:
    url = "https://www.frontierpolicy.org/briefs/model-reporting-act?from=rss"
    article = extract(fetched("policy_brief.xhtml", url, content_type="application/xhtml+xml"))
    assert article.url == "https://frontierpolicy.org/briefs/model-reporting-act"
    assert article.title == "What the Model Reporting Act asks of AI developers"
    assert article.site == "Frontier Policy Review"  # from JSON-LD publisher: no OpenGraph here
    assert article.author == "Hélène Duval"
    assert article.published == datetime(2025, 6, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    # the self-closing <script/> in <head> did not swallow the page; XHTML entities resolved
    assert article.body.startswith("The Model Reporting Act, which passed the Senate commerce committee")
    assert "María González of the Stanford Compute Policy Lab" in article.body
    assert "disproportionate—and that the bill’s sponsors" in article.body
    assert "initially 10^26 operations" in article.body
    assert "- a notice at least 90 days before a training run" in article.body
    assert "\n\nWhat they must report\n\n" in article.body
    assert "Donate" not in article.body and "non-partisan" not in article.body


def test_xhtml_that_is_not_well_formed_is_read_as_html() -> None:
    xhtml = (PAGES / "policy_brief.xhtml").read_text(encoding="utf-8")
    broken = xhtml.replace('<script type="text/javascript" src="/static/review.js" />', "").replace("<h2>", "<br><h2>")
    article = extract(fetched(broken.encode(), "https://frontierpolicy.org/b", content_type="application/xhtml+xml"))
    assert article.title == "What the Model Reporting Act asks of AI developers"
    assert "María González" in article.body


def test_page_without_metadata_falls_back_to_host_and_headline() -> None:
    article = extract(fetched("personal_blog.html", "https://www.samirpatel.dev/posts/fine-tuning-costs/"))
    assert article.site == "samirpatel.dev"
    assert article.title == "What fine-tuning a 7B model actually cost me"
    assert article.url == "https://www.samirpatel.dev/posts/fine-tuning-costs/"
    assert article.published is not None and article.published.date().isoformat() == "2025-03-03"
    assert article.published.tzinfo is not None
    assert article.body.startswith("Every few weeks someone asks me")
    assert article.body.endswith("try that before any of this.")
    assert "Evaluating a RAG system" not in article.body and "Made with Hugo" not in article.body


@pytest.mark.parametrize(
    ("body", "charset", "text"),
    [
        ("Zoë".encode("utf-8-sig"), "windows-1252", "Zoë"),  # a byte-order mark beats the header
        ("Zoë".encode("cp1252"), "windows-1252", "Zoë"),
        (b'<meta charset="iso-8859-1"><p>Zo\xeb \x80</p>', None, '<meta charset="iso-8859-1"><p>Zoë €</p>'),
        ("<p>Zoë – €</p>".encode(), None, "<p>Zoë – €</p>"),  # undeclared: UTF-8
        (b"<p>Zo\xeb \x93quoted\x94</p>", None, "<p>Zoë “quoted”</p>"),  # undeclared, not UTF-8: cp1252
        (b'<meta charset="utf-16"><p>Zo\xc3\xab</p>', None, '<meta charset="utf-16"><p>Zoë</p>'),
        ("Zoë".encode(), "no-such-charset", "Zoë"),
    ],
)
def test_decode(body: bytes, charset: str | None, text: str) -> None:
    assert decode(body, charset) == text


# ---- pages that hold no article ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("login.html", "text/html"),
        ("section_index.html", "text/html"),
        (b"", "text/html"),
        (b"<html><body><p>Coming soon.</p></body></html>", "text/html"),
        (b"\x00\x01\x02 binary junk \xff\xfe", "text/html"),
    ],
)
def test_no_article_is_an_extract_error(body: bytes | str, content_type: str) -> None:
    url = "https://modelmonitor.io/latest"
    with pytest.raises(ExtractError) as caught:
        extract(fetched(body, url, content_type))
    assert caught.value.message == "no article text found on the page"
    assert caught.value.url == url


def test_unreadable_content_type_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="image/png"):
        extract(fetched(b"\x89PNG\r\n\x1a\n....", "https://x.example/a.png", "image/png"))


# ---- PDF and plain text -----------------------------------------------------------------------------

REPORT_PAGES = [
    "State of Open Models 2025\nA report by the Open Model Observatory\n"
    + "Open-weight models closed much of the gap with proprietary systems this year, according to the "
    "Observatory's tests of 41 models on coding, reasoning and multilingual tasks.",
    "Chapter 2: Compute\nTraining compute for the largest open models grew fourfold, while the cost of "
    "serving them fell by about 80 percent as quantisation and batching improved.",
]


def test_pdf_text_and_metadata() -> None:
    created = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    body = make_pdf(REPORT_PAGES, title="State of Open Models 2025", author="Zoë Müller", created=created)
    url = "https://www.openmodelobservatory.org/reports/state-2025.pdf"
    article = extract(fetched(body, url, "application/pdf"), source=url)
    assert article.title == "State of Open Models 2025"
    assert article.author == "Zoë Müller"
    assert article.published == created
    assert article.site == "openmodelobservatory.org"
    assert article.url == url
    first, second = article.body.split("\n\n")
    # the PDF's line wrapping is undone where a line plainly runs on
    assert "according to the Observatory's tests of 41 models on coding, reasoning and multilingual tasks." in first
    assert second.startswith("Chapter 2: Compute\nTraining compute for the largest open models grew fourfold")


@pytest.mark.parametrize("title", [None, "Microsoft Word - draft3.docx", "untitled"])
def test_pdf_title_falls_back_to_first_line(title: str | None) -> None:
    article = extract(fetched(make_pdf(REPORT_PAGES, title), "https://x.example/r.pdf", "application/pdf"))
    assert article.title == "State of Open Models 2025"
    assert article.published is None and article.author == ""


def test_pdf_served_with_a_wrong_content_type_is_still_read() -> None:
    article = extract(fetched(make_pdf(REPORT_PAGES), "https://x.example/download?id=7", "text/html"))
    assert article.title == "State of Open Models 2025"


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(REPORT_PAGES, "Secret"))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="the PDF is encrypted"):
        extract(fetched(_encrypted("reader-secret"), "https://x.example/locked.pdf", "application/pdf"))


def test_pdf_with_only_an_owner_password_opens() -> None:
    article = extract(fetched(_encrypted(""), "https://x.example/restricted.pdf", "application/pdf"))
    assert article.title == "Secret"
    assert "Open-weight models closed much of the gap" in article.body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (make_pdf(REPORT_PAGES)[:400], "the PDF could not be read"),  # truncated download
        (b"%PDF-1.7\n" + os.urandom(2000), "the PDF could not be read"),
        (make_pdf(["", "", "3"]), "no text found in the PDF"),  # a scan: pages without text
    ],
)
def test_broken_or_textless_pdf_is_an_extract_error(body: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message):
        extract(fetched(body, "https://x.example/broken.pdf", "application/pdf"))


def test_pdf_with_thousands_of_pages_is_read_only_up_to_the_cap() -> None:
    pages = [f"Sheet {n:04d} of the compute ledger. " + "Each row lists a training run and its cost. " * 20
             for n in range(2000)]
    article = extract(fetched(make_pdf(pages, title="Compute ledger"), "https://x.example/ledger.pdf", "application/pdf"))
    assert article.title == "Compute ledger"
    assert article.body.startswith("Sheet 0000 of the compute ledger.")
    assert f"Sheet {MAX_PDF_PAGES - 1:04d}" in article.body
    assert f"Sheet {MAX_PDF_PAGES:04d}" not in article.body


def test_plain_text_file() -> None:
    path = PAGES / "press_release.txt"
    article = extract_file(path)
    assert article.title == "Aurora Compute to open geothermal-powered AI data centre in Iceland"
    assert article.url == path.resolve().as_uri()
    assert article.site == "press_release.txt"
    assert article.source == str(path)
    assert article.published is None
    assert "said Guðrún Sigurðardóttir, Aurora's chief operating officer." in article.body
    assert article.body == clean_text(path.read_text(encoding="utf-8"))


def test_plain_text_from_the_web_is_named_after_its_host() -> None:
    article = extract(fetched("press_release.txt", "https://www.auroracompute.example/press/iceland.txt", "text/plain"))
    assert article.site == "auroracompute.example"
    assert article.title == "Aurora Compute to open geothermal-powered AI data centre in Iceland"


def test_files_by_suffix_and_by_sniffing(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Lab notes: eval harness\n\nWe reran the suite on Osprey 8B.\n")
    assert extract_file(tmp_path / "notes.md").title == "Lab notes: eval harness"
    (tmp_path / "report.pdf").write_bytes(make_pdf(REPORT_PAGES, "State of Open Models 2025"))
    assert extract_file(tmp_path / "report.pdf").title == "State of Open Models 2025"
    (tmp_path / "brief.xhtml").write_bytes((PAGES / "policy_brief.xhtml").read_bytes())
    assert extract_file(tmp_path / "brief.xhtml").site == "Frontier Policy Review"
    saved = tmp_path / "halcyon.download"  # a browser's "save page" with an odd suffix
    saved.write_bytes((PAGES / "aiwire_article.html").read_bytes())
    article = extract_file(saved)
    assert article.title == "Halcyon Labs raises $400M to build inference chips that sip power"
    assert article.url == saved.resolve().as_uri()  # a file is on no site, so its canonical is not taken
    (tmp_path / "notes").write_text("Plain notes without a suffix, about the Osprey 8B evaluation runs.\n")
    assert extract_file(tmp_path / "notes").title == "Plain notes without a suffix, about the Osprey 8B evaluation runs."
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4)
    with pytest.raises(ExtractError, match="cannot read an article from a .pptx file"):
        extract_file(tmp_path / "slides.pptx")
    with pytest.raises(ExtractError, match="cannot read"):
        extract_file(tmp_path / "missing.html")


def test_clean_text() -> None:
    raw = "Open\u200bAI\u200d \u202eflip\u202c  in\u00adfra\u00ad\ufeffstructure\u00a0\u00a0costs\r\n\n\n\n e\u0301t\u00e9 \x07"
    assert clean_text(raw) == "OpenAI flip infrastructure costs\n\nété"
    assert clean_text("  one\n two  \n\n\n three\t\tfour ") == "one\ntwo\n\nthree four"


# ---- in a worker process, under a deadline ----------------------------------------------------------


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":  # killed, not yet reaped
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.asyncio
async def test_extract_async_runs_in_another_process() -> None:
    article = await extract_async(fetched("aiwire_article.html", AIWIRE_URL), source="cli", timeout=20)
    assert article.title == "Halcyon Labs raises $400M to build inference chips that sip power"
    assert article.source == "cli"
    with pytest.raises(ExtractError, match="no article text found on the page"):
        await extract_async(fetched("login.html", "https://modelmonitor.io/login"), timeout=20)


@pytest.mark.asyncio
async def test_a_hung_extraction_is_killed_and_the_pool_recovers(tmp_path: Path) -> None:
    page = fetched("aiwire_article.html", AIWIRE_URL)
    await extract_async(page, timeout=20)  # the workers are up, so the deadline measures only the work
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(ExtractError, match="the page took too long to extract"):
        await extract_async(page, source=str(pid_file), timeout=1.5, _target=extract_workers.hang)
    assert time.monotonic() - started < 5
    pid = int(pid_file.read_text())
    assert pid != os.getpid()
    assert _gone(pid), "the hung worker is still running"
    article = await extract_async(page, timeout=20)
    assert article.url == AIWIRE_CANONICAL


@pytest.mark.asyncio
async def test_a_call_sharing_the_pool_with_a_killed_one_is_retried(tmp_path: Path) -> None:
    page = fetched("aiwire_article.html", AIWIRE_URL)
    hung, slow = await asyncio.gather(
        extract_async(page, source=str(tmp_path / "pid"), timeout=1.5, _target=extract_workers.hang),
        extract_async(page, source="slow", timeout=20, _target=extract_workers.slow),
        return_exceptions=True,
    )
    assert isinstance(hung, ExtractError) and hung.message == "the page took too long to extract"
    assert isinstance(slow, Article) and slow.source == "slow"


@pytest.mark.asyncio
async def test_a_crashed_worker_is_an_extract_error_and_the_pool_recovers() -> None:
    page = fetched("aiwire_article.html", AIWIRE_URL)
    with pytest.raises(ExtractError, match="the extractor crashed on this page"):
        await extract_async(page, timeout=20, _target=extract_workers.crash)
    assert (await extract_async(page, timeout=20)).site == "The AI Wire"


_BOT = """
import asyncio, sys, time
from ingest.extract import _get_pool, extract_async
from ingest.fetch import FetchedPage

async def main():
    body = open(sys.argv[1], "rb").read()
    page = FetchedPage(url="https://theaiwire.news/a", requested_url="https://theaiwire.news/a", status=200,
                       content_type="text/html", charset=None, body=body, headers={})
    await extract_async(page, timeout=30)
    print(" ".join(str(p.pid) for p in _get_pool()._processes.values()), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_workers_leave_when_the_bot_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(_BOT)
    root = Path(__file__).resolve().parents[2]
    bot = subprocess.Popen([sys.executable, str(script), str(PAGES / "aiwire_article.html")], cwd=root,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env={**os.environ, "PYTHONPATH": str(root)})
    try:
        workers = [int(pid) for pid in bot.stdout.readline().split()]
    finally:
        bot.kill()
        bot.wait()
    assert len(workers) == 2
    assert all(_gone(pid) for pid in workers), "extraction workers outlived the bot"
