# ruff: noqa: RUF001 - pages in Japanese and German have their own punctuation
"""The theme in the site's language: catalogues, CLDR dates, reading time, right to left.

The bundled site is built in Japanese, German and Arabic, and every text a reader sees
is held against the English catalogue: none of the theme's English may be left.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from site_builder.config import load_config
from site_builder.errors import BuildFailed
from site_builder.i18n import LOCALES_DIR, load_texts, overlay_title
from tests.conftest import REPO, MakeSite, article, build_at, copy_bundled_site

# The languages the theme ships in, besides English.
LANGUAGES = ("de", "fr", "es", "it", "pt-BR", "nl", "pl", "ru", "uk", "ja", "ko", "zh-Hans")
LANGUAGES += ("zh-Hant", "ar", "he", "tr", "hi")
POT = LOCALES_DIR / "site_builder.pot"


def catalogue(language: str) -> Catalog:
    path = LOCALES_DIR / language.replace("-", "_") / "LC_MESSAGES" / "site_builder.po"
    with path.open("rb") as file:
        return read_po(file, locale=language.replace("-", "_"))


def extracted_template() -> bytes:
    """The .pot that `pybabel extract -F babel.cfg` makes of the code and the theme now."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = Catalog()
    for name, line, message, comments, context in extract_from_dir(
        str(REPO), method_map, options_map
    ):
        found.add(message, None, [(name, line)], auto_comments=comments, context=context)
    out = io.BytesIO()
    write_po(out, found, omit_header=True, no_location=True, sort_output=True)
    return out.getvalue()


def test_the_committed_catalogue_template_has_every_string_of_the_theme_and_code() -> None:
    # An English string added without running pybabel extract fails here, and so
    # does one that is gone from the theme but still in the catalogue.
    assert extracted_template() == POT.read_bytes(), (
        "run: pybabel extract -F babel.cfg --no-location --omit-header --sort-output "
        "-o site_builder/locales/site_builder.pot ."
    )


def english_messages() -> list[str | tuple[str, ...]]:
    with POT.open("rb") as file:
        return [m.id for m in read_po(file) if m.id]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_translates_every_string_in_its_plural_forms(
    language: str, make_site: MakeSite
) -> None:
    found = catalogue(language)
    count, expression = get_plural(language.replace("-", "_"))
    assert found.plural_forms == f"nplurals={count}; plural={expression};"
    for wanted in english_messages():
        message = found.get(wanted)
        assert message is not None and not message.fuzzy, f"{language}: {wanted!r} missing"
        forms = message.string if isinstance(wanted, tuple) else (message.string,)
        assert len(forms) == count if isinstance(wanted, tuple) else True
        assert all(forms), f"{language}: {wanted!r} untranslated"
    # The same file as a site's own catalogue passes the checks a site's file gets.
    root = make_site({f"templates/i18n/{language}.po": _po_text(language)})
    _, problems = load_texts(language, root / "templates")
    assert problems == []


def _po_text(language: str) -> str:
    path = LOCALES_DIR / language.replace("-", "_") / "LC_MESSAGES" / "site_builder.po"
    return path.read_text(encoding="utf-8")


def _site_in(language: str, root: Path) -> Path:
    toml = root / "site.toml"
    text = re.sub(r'(?m)^language = ".*"$', f'language = "{language}"', toml.read_text())
    toml.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled site built in Japanese, German and Arabic: language → output folder."""
    folders = {}
    for language in ("ja", "de", "ar"):
        root = copy_bundled_site(tmp_path_factory.mktemp(language) / "site")
        build_at(_site_in(language, root))
        folders[language] = root / "output"
    return folders


def _pattern(text: str) -> str:
    """A regular expression for what an English message looks like once filled in."""
    parts = re.split(r"%\(\w+\)s|<[^>]+>", text)
    return ".+?".join(re.escape(re.sub(r"\s+", " ", p)) for p in parts)


def english_left(language: str) -> re.Pattern[str]:
    """Every English theme text the language translates differently, as one pattern.

    Messages that are only placeholders and punctuation ("%(label)s: %(name)s") say
    nothing in English and are left out.
    """
    translated = catalogue(language)
    patterns = []
    for wanted in english_messages():
        message = translated.get(wanted)
        assert message is not None
        for english, own in zip(
            wanted if isinstance(wanted, tuple) else (wanted,),
            message.string if isinstance(message.string, tuple) else (message.string,),
            strict=False,
        ):
            words = re.sub(r"%\(\w+\)s|<[^>]+>", "", english)
            if english != own and re.search(r"[A-Za-z]{2}", words):
                patterns.append(_pattern(english))
    return re.compile("|".join(f"(?:{p})" for p in sorted(set(patterns))))


def texts_of(page: Path) -> Iterator[str]:
    """Every text node and every human-readable attribute of a page, whitespace folded."""
    tree = lxml.html.fromstring(page.read_bytes())
    for element in tree.iter():
        if element.tag in ("script", "style") or not isinstance(element.tag, str):
            continue
        for text in (element.text, element.tail):
            if text and text.strip():
                yield " ".join(text.split())
        for name in ("aria-label", "title", "alt"):
            if element.get(name):
                yield " ".join(element.get(name).split())
        if element.tag == "meta" and element.get("name", "").endswith("description"):
            yield " ".join(element.get("content", "").split())


def theme_english(text: str, english: re.Pattern[str], content: set[str] | None = None) -> bool:
    """Whether a text is, or has a part that is, one of the theme's English strings;
    the theme joins its parts with " · ". Parts that are ``content`` do not count."""
    # The theme's arrows stand beside its words ("← Older story").
    parts = (part.strip(" ←→") for part in text.split(" · "))
    return any(english.fullmatch(part) for part in parts if part not in (content or ()))


def content_texts(bundled_output: Path) -> set[str]:
    """Texts of the English build with no theme string in them (bodies, names), and
    the titles of stories and pages ("About" is one): they are the same in every
    language's build, as the content is English."""
    english = english_left("ja")
    titles = {
        " ".join(h1.text_content().split())
        for page in bundled_output.rglob("*.html")
        for h1 in lxml.html.fromstring(page.read_bytes()).iterfind(".//article//h1")
    }
    return titles | {
        text
        for page in bundled_output.rglob("*.html")
        for text in texts_of(page)
        if not theme_english(text, english)
    }


@pytest.mark.parametrize("language", ["ja", "de", "ar"])
def test_the_bundled_site_shows_no_english_theme_string(
    language: str, built: dict[str, Path], bundled_output: Path
) -> None:
    english = english_left(language)
    content = content_texts(bundled_output)
    pages = [*built[language].rglob("*.html")]
    assert len(pages) > 60
    left = sorted(
        {
            f"{page.relative_to(built[language])}: {text!r}"
            for page in pages
            for text in texts_of(page)
            if text not in content and theme_english(text, english, content)
        }
    )
    assert left == []


def test_the_english_check_does_find_english(bundled_output: Path) -> None:
    english = english_left("ja")
    shown = {text for page in bundled_output.rglob("*.html") for text in texts_of(page)}
    found = {t for t in shown if theme_english(t, english)}
    assert {"Latest stories", "← Older story", "Skip to content", "2 min read"} <= found
    assert "© 2021 Tech Digest · Written by Tech Digest editors" in found


def test_japanese_pages_have_japanese_dates_weeks_and_plain_text_email(
    built: dict[str, Path],
) -> None:
    out = built["ja"]
    front = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in front
    assert (
        '<time datetime="2021-08-23">2021年8月23日</time>～<time datetime="2021-08-29">29日</time>'
        in front
    )
    assert '週刊ダイジェスト：<time datetime="2021-W34">2021年第34週</time>' in front
    assert "2021年8月27日" in front and "August" not in front
    archive = (out / "archive" / "index.html").read_text(encoding="utf-8")
    assert ">8月</a>" in archive
    email = (out / "digest" / "2021" / "w34" / "email.txt").read_text(encoding="utf-8")
    assert "週刊 第4号 · 2021年8月23日～29日 · 4件の記事" in email
    assert "Read " not in email and "Tags:" not in email


def test_german_dates_and_plurals(built: dict[str, Path]) -> None:
    issue = (built["de"] / "digest" / "2021" / "w34" / "index.html").read_text(encoding="utf-8")
    assert 'Wochenausgabe: <time datetime="2021-W34">Woche 34 des Jahres 2021</time>' in issue
    assert (
        '<time datetime="2021-08-23">23.</time>–<time datetime="2021-08-29">29. August 2021</time>'
        in issue
    )
    article_page = (built["de"] / "articles" / "linux-turns-30" / "index.html").read_text()
    assert "25. August 2021" in article_page and "Min. Lesezeit" in article_page


def test_arabic_reads_right_to_left_in_pages_and_email(built: dict[str, Path]) -> None:
    out = built["ar"]
    for page in ("index.html", "404.html", "digest/2021/w34/email.html"):
        assert '<html lang="ar" dir="rtl">' in (out / page).read_text(encoding="utf-8")
    # Arrows point the way the page reads: "older" is to the left.
    front = (out / "index.html").read_text(encoding="utf-8")
    assert "اقرأ العدد كاملًا ←" in front
    ja = Path(str(out).replace("/ar", "/ja")) / "index.html"
    assert not ja.exists() or 'dir="rtl"' not in ja.read_text(encoding="utf-8")


def test_a_page_left_at_an_old_address_speaks_the_language(make_site: MakeSite) -> None:
    root = make_site(
        {"content/articles/a.md": article("قصة", "2026-11-20", aliases="[/2026/old-name/]")},
        config=_config("ar"),
    )
    build_at(root)
    page = (root / "output" / "2026" / "old-name" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page
    assert "<title>قصة (نُقل)</title>" in page
    assert '<p>نُقل هذا المقال إلى <a href="/articles/' in page


def test_feeds_carry_the_language_and_its_titles(built: dict[str, Path]) -> None:
    digest = feedparser.parse((built["ja"] / "digest" / "feed.xml").read_bytes())
    assert digest.bozo == 0
    assert digest.feed.title == "Tech Digest：週刊ダイジェスト"
    assert digest.feed.language == "ja"
    assert digest.entries[0].title == "週刊ダイジェスト：2021年第34週"
    atom = feedparser.parse((built["ar"] / "tags" / "security" / "atom.xml").read_bytes())
    assert atom.bozo == 0 and atom.feed.subtitle == "الوسم security في Tech Digest"
    opml = (built["de"] / "feeds.opml").read_text(encoding="utf-8")
    assert (
        "<title>Tech Digest: alle Feeds</title>" in opml and '<outline text="Schlagwörter"' in opml
    )


def test_japanese_reading_time_counts_characters(make_site: MakeSite) -> None:
    body = "日本語の長い記事です。" * 400  # 4,400 characters: some fifteen minutes
    root = make_site(
        {"content/articles/long.md": article("長い記事", "2026-11-20", body)},
        config=_config("ja"),
    )
    build_at(root)
    page = (root / "output" / "articles" / "long" / "index.html").read_text(encoding="utf-8")
    minutes = int(re.search(r"(\d+)分で読めます", page)[1])  # type: ignore[index]
    assert 12 <= minutes <= 18


def _config(language: str) -> str:
    return (
        'title = "T"\nbase_url = "https://t.example.org/"\n'
        f'language = "{language}"\ntimezone = "Asia/Tokyo"\n'
    )


def test_a_site_catalogue_overrides_a_string_and_an_edit_rebuilds_the_pages(
    make_site: MakeSite, tmp_path: Path
) -> None:
    override = 'msgid "Latest stories"\nmsgstr "Neu bei uns"\n'
    root = make_site(
        {
            "content/articles/a.md": article("Eins", "2026-11-20"),
            "templates/i18n/de.po": override,
        },
        config=_config("de"),
    )
    build_at(root)
    front = root / "output" / "index.html"
    assert "Neu bei uns" in front.read_text(encoding="utf-8")
    assert "Älter" in front.read_text(encoding="utf-8") or "Archiv" in front.read_text()
    (root / "templates/i18n/de.po").write_text(override.replace("Neu bei uns", "Frisch"))
    build_at(root)
    clean = tmp_path / "clean"
    build_at(root, output=clean, incremental=False)
    assert "Frisch" in front.read_text(encoding="utf-8")
    assert _files(root / "output") == _files(clean)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_site_translates_the_theme_into_a_language_it_does_not_ship(
    make_site: MakeSite,
) -> None:
    # The template, copied and partly filled in: the rest stays English, never blank.
    template = POT.read_text(encoding="utf-8").replace(
        'msgid "Latest stories"\nmsgstr ""', 'msgid "Latest stories"\nmsgstr "Habari mpya"'
    )
    root = make_site(
        {"content/articles/a.md": article("Moja", "2026-11-20"), "templates/i18n/sw.po": template},
        config=_config("sw"),
    )
    result = build_at(root)
    front = (root / "output" / "index.html").read_text(encoding="utf-8")
    assert "Habari mpya" in front and "1 min read" in front and "Skip to content" in front
    assert result.warnings == ()


def test_a_broken_site_catalogue_is_reported_with_its_lines(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("Eins", "2026-11-20"),
            "templates/i18n/ru.po": (
                'msgid "Older"\nmsgstr "Старее %(when)s"\n\n'
                'msgid "%(num)s story"\nmsgid_plural "%(num)s stories"\n'
                'msgstr[0] "%(num)s статья"\nmsgstr[1] "%(num)s статьи"\n\n'
                'msgid "Newer"\nmsgstr "100% новее"\n'
            ),
        },
        config=_config("ru"),
    )
    with pytest.raises(BuildFailed) as failed:
        build_at(root)
    shown = [str(p) for p in failed.value.problems]
    assert shown == [
        'templates/i18n/ru.po:1: error: msgid "Older": placeholder %(when)s is not in the '
        "English text",
        'templates/i18n/ru.po:4: error: msgid "%(num)s story": 2 plural forms, but the '
        "language has 3",
        "templates/i18n/ru.po:9: error: msgid \"Newer\": translation '100% новее' does not "
        "format: unsupported format character '?' (0x43d) at index 5",
    ]
    assert not (root / "output").exists()


def test_a_catalogue_that_is_not_po_is_an_error_not_a_traceback(make_site: MakeSite) -> None:
    root = make_site(
        {"templates/i18n/de.po": 'msgid "Older"\nmsgstr "Älter"\nOlder = Älter\n'},
        config=_config("de"),
    )
    with pytest.raises(BuildFailed) as failed:
        build_at(root)
    assert [str(p) for p in failed.value.problems] == [
        "templates/i18n/de.po:3: error: not a valid .po file: Unknown or misformatted keyword"
    ]


def test_an_unknown_language_is_a_located_config_error(make_site: MakeSite) -> None:
    root = make_site({}, config=_config("klingon-xx"))
    with pytest.raises(BuildFailed) as failed:
        build_at(root)
    assert [str(p) for p in failed.value.problems] == [
        "site.toml:3: error: language: 'klingon-xx' is not a language code; "
        "expected e.g. 'en', 'de', 'pt-BR' or 'zh-Hant'"
    ]


def test_the_preview_overlay_title_is_in_the_site_language(make_site: MakeSite) -> None:
    def title(language: str, count: int) -> str:
        root = make_site({}, config=_config(language), name=language)
        return overlay_title(load_config(root), count)

    assert title("de", 3).startswith("Build fehlgeschlagen: 3 Fehler.")
    assert title("ru", 5).startswith("Сборка не удалась: 5 ошибок.")
    assert title("ar", 2).startswith("فشل البناء: خطآن.")
    assert title("en", 1).startswith("Build failed: 1 error.")


@pytest.mark.validator
def test_japanese_and_arabic_pages_are_valid_html(built: dict[str, Path], tmp_path: Path) -> None:
    from tests.test_html_valid import nu_errors

    for language in ("ja", "ar"):
        shutil.copytree(built[language], tmp_path / language)
    assert nu_errors(tmp_path) == []
