"""``[markdown] allow_html = false``: raw HTML in articles is sanitised with nh3.

What Markdown itself makes survives whole (highlighted code, heading ids and links,
footnotes, tables, images, definition lists, abbreviations); scripts, styles, frames,
event handlers and ``javascript:`` URLs do not, in pages, summaries or feeds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import lxml.html
import pytest
from pygments.token import STANDARD_TYPES

from site_builder.markdown import render_markdown, sanitize
from tests.conftest import REPO, SITE_TOML, MakeSite, article, build_at

RICH = """\
# Title

## Section *one*

Text with a footnote[^1], `code`, an ![image](/x.png "A title"), a
[link](https://example.org/ "Example") and a [relative one](/articles/x/#part).

```python
def f(x):
    return x + 1  # comment
```

    indented code <b>kept as text</b>

| left | right |
|:-----|------:|
| 1    | 2     |

Term
: Definition

*[HTML]: Hyper Text Markup Language

HTML is explained. Line with\\
a break and ***strong em*** and ~~not strike~~.

> A quote
> - with a list

1. one
2. two

### Sub-section `three`

---

[^1]: The note.
"""

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">a</a>',
    '<a href="JaVaScRiPt:alert(1)">a</a>',
    '<a href="jav&#x09;ascript:alert(1)">a</a>',
    '<a href=" javascript:alert(1)">a</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>',
    '<a href="vbscript:msgbox(1)">a</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    "<style>body { display: none }</style>",
    '<p style="position:fixed;top:0">overlay</p>',
    '<div onclick="alert(1)" onmouseover="alert(2)">x</div>',
    "<svg onload=alert(1)><circle r=5></circle></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="https://evil.example/"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<!--<script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<details open ontoggle=alert(1)>",
    '<a href="#" target="_blank" class="headerlink site-nav">x</a>',
    "[md link](javascript:alert(1))",
    "![md image](javascript:alert(1))",
    '<span class="k evil-overlay">code</span>',
    'text {: onclick="alert(1)" }',
]
_DANGEROUS_TAGS = {
    "script", "style", "iframe", "object", "embed", "form", "input", "meta", "base",
    "link", "svg", "math", "noscript",
}  # fmt: skip
_URL_ATTRIBUTES = ("href", "src", "action", "data", "formaction", "poster")


def tree(fragment: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(fragment or "<p></p>", create_parent="div")


def problems_in(fragment: str) -> list[str]:
    """Everything in an HTML fragment that could run script, restyle or leave the page."""
    found = []
    for element in tree(fragment).iter():
        tag = element.tag if isinstance(element.tag, str) else "comment"
        if tag in _DANGEROUS_TAGS or tag == "comment":
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower().partition(":")[0]
            if name.startswith("on") or name in ("target", "formaction"):
                found.append(f"{tag}@{name}")
            elif name == "style" and not re.fullmatch(r"text-align:\s*\w+;?", value):
                found.append(f"{tag}@style={value}")
            elif name in _URL_ATTRIBUTES and scheme in ("javascript", "data", "vbscript"):
                found.append(f"{tag}@{name}={value}")
            elif name == "class" and not set(value.split()) <= KNOWN_CLASSES:
                found.append(f"{tag}@class={value}")
    return found


# Classes Markdown writes: the site's CSS styles these, and contributors may use them.
KNOWN_CLASSES = {"headerlink", "footnote", "footnote-ref", "footnote-backref", "highlight"} | {
    name for name in STANDARD_TYPES.values() if name
}


def shape(fragment: str) -> list[tuple[str, dict[str, str], str, str]]:
    """Elements with their attributes and text, attribute formatting normalised.

    Comments (``<!--more-->``) are left out: the sanitiser drops them, and they show nothing.
    """
    fragment = re.sub(r"<!--.*?-->", "", fragment, flags=re.DOTALL)
    return [
        (
            str(e.tag),
            {k: re.sub(r"\s|;$", "", v) for k, v in e.attrib.items()},
            (e.text or "").replace("\xa0", " "),
            (e.tail or "").replace("\xa0", " "),
        )
        for e in tree(fragment).iter()
    ]


def test_markdown_made_html_survives_sanitising_whole() -> None:
    trusted = render_markdown(RICH)
    sanitised = render_markdown(RICH, allow_html=False)
    assert problems_in(trusted.html) == []
    assert shape(sanitised.html) == shape(trusted.html)
    assert shape(sanitised.toc) == shape(trusted.toc) and trusted.toc
    assert shape(sanitised.summary) == shape(trusted.summary)
    assert sanitised.words == trusted.words
    for kept in ('class="highlight"', '<span class="k">def</span>', 'id="section-one"'):
        assert kept in sanitised.html
    for kept in ('class="footnote-ref"', "<table>", "<abbr", "<dl>", '<img alt="image"'):
        assert kept in sanitised.html


@pytest.mark.parametrize("path", sorted((REPO / "content").rglob("*.md")), ids=lambda p: p.name)
def test_the_bundled_articles_render_the_same_either_way(path: Path) -> None:
    body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
    assert shape(render_markdown(body, allow_html=False).html) == shape(render_markdown(body).html)


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_are_defused(attack: str) -> None:
    text = f"Before.\n\n{attack}\n\nAfter.\n"
    rendered = render_markdown(text, summary=attack, allow_html=False)
    for fragment in (rendered.html, rendered.summary):
        assert problems_in(fragment) == [], fragment
    assert "Before." in rendered.html  # "After." may go: an unclosed <style> swallows it


def test_the_attacks_are_real_without_the_option() -> None:
    """The same corpus is dangerous unsanitised: the checks above can see what they look for."""
    caught = [a for a in ATTACKS if problems_in(render_markdown(a).html)]
    assert len(caught) >= len(ATTACKS) - 3, set(ATTACKS) - set(caught)


def test_sanitize_is_idempotent() -> None:
    for attack in ATTACKS:
        once = sanitize(render_markdown(attack).html)
        assert sanitize(once) == once


# --- end to end: site.toml, the render cache, pages and feeds -------------------------

BODY = "Intro paragraph.\n\n<script>alert('body')</script>\n\n<p onclick=\"alert('p')\">x</p>\n"
SUMMARY = json.dumps("Summary <img src=x onerror=\"alert('s')\"> [go](javascript:alert('l'))")


def contributed(make_site: MakeSite, allow_html: bool) -> Path:
    config = SITE_TOML + f"[markdown]\nallow_html = {str(allow_html).lower()}\n"
    return make_site(
        {"content/articles/c.md": article("Contributed", "2026-11-20", BODY, summary=SUMMARY)},
        config=config,
    )


def alerts(root: Path) -> list[str]:
    """Output files that carry a script from the article, as markup."""
    found = []
    for path in sorted((root / "output").rglob("*")):
        if path.suffix in (".html", ".xml", ".json"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"<script>alert|onerror=|onclick=|javascript:", text.replace("\\", "")):
                found.append(path.relative_to(root / "output").as_posix())
            if re.search(r"&lt;script&gt;alert|onerror=&quot;|javascript:", text):
                found.append(path.relative_to(root / "output").as_posix())
    return found


def test_contributed_html_is_sanitised_in_pages_and_feeds(make_site: MakeSite) -> None:
    root = contributed(make_site, allow_html=False)
    build_at(root)
    assert alerts(root) == []
    page = (root / "output/articles/c/index.html").read_text(encoding="utf-8")
    assert "Intro paragraph." in page and "Summary" in page


def test_trusted_html_is_kept_by_default(make_site: MakeSite) -> None:
    root = contributed(make_site, allow_html=True)
    build_at(root)
    assert "articles/c/index.html" in alerts(root)


def test_switching_the_option_re_renders_cached_articles(make_site: MakeSite) -> None:
    root = contributed(make_site, allow_html=True)
    build_at(root)
    assert alerts(root)
    site_toml = root / "site.toml"
    site_toml.write_text(
        site_toml.read_text("utf-8").replace("allow_html = true", "allow_html = false"), "utf-8"
    )
    build_at(root)  # the render cache holds the trusted rendering: it must not be used
    assert alerts(root) == []
