"""Property tests for what ingest makes of untrusted feed items: any title, summary and
categories give a draft that the site reads without a problem, under a safe file name."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.config import FeedSource
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.ingest.drafts import draft_stem, draft_text
from site_builder.ingest.parse import Item, Origin, plain

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ORIGIN = Origin(id="urn:x", title="X", url="https://x.example/feed", updated=NOW)
# Text as feeds send it after decoding: any code point, markup and YAML's own marks.
text = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8")),
        st.sampled_from(["<b>", "&amp;", "---", ": ", "\n", "#", "&#0;"]),
    )
).map("".join)


@settings(max_examples=300, deadline=None)
@given(title=text, summary=text, categories=st.lists(text, max_size=10))
def test_any_item_gives_a_draft_the_site_reads(
    title: str, summary: str, categories: list[str]
) -> None:
    item = Item(
        title=plain(title),
        url="https://x.example/a",
        date=None,
        html=summary,
        categories=tuple(categories),
    )
    source = FeedSource(name="X", url="https://x.example/feed", tags=("t",))
    draft = draft_text(source, ORIGIN, item, NOW)
    stem = draft_stem(item)
    front = split_front_matter(draft, path="content/inbox/x.md")
    fields, problems = read_fields(
        front, path="content/inbox/x.md", tz=UTC, file_slug=stem, file_date=None, needs_date=True
    )
    assert problems == [] and fields is not None
    assert fields.draft and fields.sources[0].url == "https://x.example/a"
    assert front.meta["source_feed"]["url"] == "https://x.example/feed"
    assert stem and len(stem.encode()) <= 80
    assert "/" not in stem and "\\" not in stem and not stem.startswith(".")
