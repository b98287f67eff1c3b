"""Articles and pages the hostile, fault and load tests share: two seed articles for a store, and a
plain news page builder for loopback sites."""

from __future__ import annotations

from html import escape

from ingest.extract import Article

HTML = {"Content-Type": "text/html; charset=utf-8"}
NO_ROBOTS = (404, {"Content-Type": "text/plain"}, b"")

SEED = [
    Article(
        url="https://aiwire.example/2026/03/12/rubin",
        title="Nvidia unveils Rubin GPUs at GTC",
        body="Nvidia announced its Rubin GPU platform at GTC on March 12, 2026. The company said Rubin delivers "
        "three times the inference performance of Blackwell. Shipments begin in the second half of 2026.\n\n"
        "Analysts expect the first Rubin systems to reach cloud providers before the end of the year.",
        site="AI Wire",
    ),
    Article(
        url="https://techwire.example/2026/02/20/openai-prices",
        title="OpenAI cuts API prices",
        body="OpenAI cut the price of its GPT-5 mini API by 40 percent on February 20, 2026. Developers see the "
        "new prices immediately. The company did not change ChatGPT subscription prices.",
        site="Techwire",
    ),
]


def page(title: str, paragraphs: list[str], *, head: str = "", body: str = "") -> bytes:
    """A plain news article page: <title>, an <article> with a headline and paragraphs."""
    ps = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>{head}</head>"
        f"<body><article><h1>{escape(title)}</h1>{ps}{body}</article></body></html>"
    ).encode()


ARTICLE_TEXT = [
    "Mistral raised 600 million euros in a funding round led by General Catalyst, the company said on Tuesday. "
    "The Paris start-up will use the money to train larger open-weights models and to hire engineers.",
    "The company plans to open an office in Singapore later this year, its chief executive told reporters. "
    "Mistral's valuation was not disclosed, but people familiar with the deal put it above ten billion euros.",
]
