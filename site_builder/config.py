"""Configuration stage: ``site.toml`` and command-line overrides → a frozen ``SiteConfig``."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from site_builder.errors import BuildFailed, ConfigError

CONFIG_NAME = "site.toml"
CACHE_NAME = ".site-builder"  # cache.CACHE_DIR; config may not import cache (layers)
# Python-Markdown renders about 0.5 MB/s and holds ~50x the text in memory; real
# articles are a few kB to 100 kB. 2 MB takes ~5 s and ~100 MB, a 50 MB file minutes
# and gigabytes, so the limit fails such a file fast and says so.
MAX_ARTICLE_BYTES = 2_000_000


def is_ignored(name: str) -> bool:
    """Hidden files and editors' temporary and swap files are never content."""
    return (
        name.startswith((".", "#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name in ("4913", "Thumbs.db")
    )


def theme_dir() -> Path:
    """The built-in theme: packaged with the wheel, or the repository's templates/."""
    package = Path(__file__).parent
    packaged = package / "default_templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def template_dirs(config: SiteConfig) -> list[Path]:
    """Where templates are looked up, the site's own first."""
    dirs = [config.templates_dir, theme_dir()]
    resolved = [d.resolve() for d in dirs if d.is_dir()]
    return list(dict.fromkeys(resolved))


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkdownOptions:
    """The ``[markdown]`` table: how article bodies are turned into HTML."""

    # False: raw HTML in articles is sanitised (for sites that take contributions).
    allow_html: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSource:
    """One ``[[sources]]`` table: an upstream feed that ``site-builder ingest`` reads."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    category: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageConfig:
    """One ``[languages.<code>]`` table: a language besides the default, whose site
    lives at ``path`` under the site (``de/``) and whose content is in content/<code>/."""

    code: str
    title: str
    description: str = ""
    path: str  # one URL segment and "/": "de/"
    author: str | None = None  # None: the site's
    copyright: str | None = None


# Files every language shares: the theme's, and the search index over all of them.
INDEX_DIR = "pagefind"  # the search index's folder in the output
# The site's own top-level folders: no page's slug, and no language's path.
RESERVED = frozenset(
    (
        "articles",
        "tags",
        "categories",
        "authors",
        "archive",
        "digest",
        "page",
        "static",
        "feeds",
        "search",
        INDEX_DIR,
        "404",
    )
)
SHARED_PATHS = ("static/", f"{INDEX_DIR}/")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """The site's settings and where its files live. Paths are absolute."""

    root: Path
    title: str
    description: str = ""
    base_url: str  # always ends with "/"
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""
    copyright: str = ""
    feed_size: int = 20
    per_page: int = 10
    output_dir: Path
    drafts: bool = False
    future: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)
    markdown: MarkdownOptions = field(default_factory=MarkdownOptions)
    # Guards on reading content/; they refuse input and never change output.
    allow_symlinks_outside: bool = False
    max_article_bytes: int = MAX_ARTICLE_BYTES
    # Upstream feeds for ``ingest``: the tables, or an OPML file's name beside site.toml.
    sources: tuple[FeedSource, ...] | str = ()
    # A Pagefind index for /search/ (``build --no-search`` turns it off); the theme
    # links Search only when there is one.
    search: bool = True
    # The languages besides ``language``, each a site under its own path.
    languages: tuple[LanguageConfig, ...] = ()
    # Set in one language's config (``for_language``): where its site lives, "de/".
    language_path: str = ""
    # False for the preview's config: what it builds is never published.
    publishing: bool = True

    @property
    def content_dir(self) -> Path:
        """content/; for another language's site, its folder content/<code>/."""
        folder = self.root / "content"
        return folder / self.language if self.language_path else folder

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: "/" or "/project/"."""
        return urlsplit(self.base_url).path or "/"

    @property
    def records_ids(self) -> bool:
        """Whether a build may write the permalink ledgers: only one that publishes. A
        preview, a build with drafts or future stories, or one for a loopback address (a
        test build) would record ids and addresses that were never published, and every
        later build would publish them (``http://127.0.0.1:8000/...`` as a feed id)."""
        host = urlsplit(self.base_url).hostname or ""
        return self.publishing and not (self.drafts or self.future or is_loopback(host))

    def fingerprint(self) -> str:
        """Every setting that shapes output, without where the site happens to live."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_OUTPUT}
        return repr(sorted(shown.items(), key=lambda kv: kv[0]))

    def absolute(self, site_path: str) -> str:
        """The full URL of a site-relative path such as ``/articles/x/``."""
        return self.base_url + self.localized(site_path)

    def localized(self, site_path: str) -> str:
        """A path of this language's site as a path under the base URL, without "/":
        another language's pages live under its own path, the shared files do not."""
        path = site_path.lstrip("/")
        if self.language_path and not path.startswith(SHARED_PATHS):
            return self.language_path + path
        return path

    def content_url(self, value: str, page_url: str, *, absolute: bool = False) -> str:
        """A URL written in content (an image in front matter), as the Markdown's are
        read: from the site's root when it starts with "/" (in every language), from
        the page when relative, as it is when it has a scheme."""
        if value.startswith("/") and not value.startswith("//"):
            return (self.base_url if absolute else self.base_path) + value[1:]
        return urljoin(self.absolute(page_url), value) if absolute else value

    def for_language(self, code: str) -> SiteConfig:
        """The config of the site of one of ``languages`` (the default's: itself)."""
        for other in self.languages:
            if other.code == code:
                return replace(
                    self,
                    language=code,
                    title=other.title,
                    description=other.description,
                    author=self.author if other.author is None else other.author,
                    copyright=self.copyright if other.copyright is None else other.copyright,
                    language_path=other.path,
                )
        return self


_NOT_OUTPUT = frozenset(
    ("root", "output_dir", "allow_symlinks_outside", "max_article_bytes", "sources", "publishing")
)


def is_loopback(host: str) -> bool:
    """``localhost``, a ``.localhost`` name or a loopback or unspecified IP address."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _text(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {value!r}")
        return value.strip()

    return check


def _count(name: str, low: int, high: int) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    return check


def _timezone(value: object) -> object:
    name = _text("timezone")(value)
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone: {value!r} is not a time zone; expected a name such as 'Europe/Berlin'"
        ) from None
    return name


def _language(value: object) -> object:
    name = str(_text("language")(value))
    # Imported here: a no-op build reads the config, and most of Babel is not needed for it.
    from babel import Locale, UnknownLocaleError  # noqa: PLC0415

    try:
        Locale.parse(name.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"language: {value!r} is not a language code; "
            "expected e.g. 'en', 'de', 'pt-BR' or 'zh-Hant'"
        ) from None
    return name


_UNSAFE_IN_URL = re.compile(r"[\s\"'<>\\^`{|}]")


def _base_url(value: object) -> object:
    url = str(_text("base_url")(value))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"base_url: {value!r} is not an absolute http(s) URL; "
            "expected e.g. 'https://news.example.org/'"
        )
    # Every URL of the site is the base and a path: a query or fragment would end up in
    # the middle of each, and a space or quote would be sent unescaped.
    if parts.query or parts.fragment or url.endswith(("?", "#")) or _UNSAFE_IN_URL.search(url):
        raise ValueError(
            f"base_url: {value!r} must be a plain address, without a query, a fragment, "
            "spaces or quotes; expected e.g. 'https://news.example.org/' "
            "(a space in a path is written %20)"
        )
    return url if url.endswith("/") else url + "/"


def _flag(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected true or false, got {value!r}")
        return value

    return check


def _table(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError(f"{name}: expected a table, got {value!r}")
        return value

    return check


_MARKDOWN_FIELDS: dict[str, Callable[[object], object]] = {
    "allow_html": _flag("markdown.allow_html"),
}


class _Unknown(ValueError):
    """A key the config does not know, with the closest known one as a hint."""

    def __init__(self, key: str, known: Mapping[str, object]) -> None:
        super().__init__(key)
        close = difflib.get_close_matches(key.rpartition(".")[2], known, n=1)
        self.key = key
        self.hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"


def _markdown(value: object) -> object:
    """The ``[markdown]`` table, checked key by key like the top level."""
    table = _table("markdown")(value)
    assert isinstance(table, dict)
    options: dict[str, object] = {}
    for key, item in table.items():
        check = _MARKDOWN_FIELDS.get(key)
        if check is None:
            raise _Unknown(f"markdown.{key}", _MARKDOWN_FIELDS)
        options[key] = check(item)
    return MarkdownOptions(**options)  # type: ignore[arg-type]


_LANGUAGE_FIELDS = ("title", "description", "path", "author", "copyright")
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9-]*")


class _LanguageProblem(ValueError):
    """A problem in the ``[languages.<code>]`` table."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _language_table(code: object, table: object) -> LanguageConfig:
    where = f"languages.{code}"
    if not isinstance(table, dict):
        raise _LanguageProblem(
            f"{where}: expected a table with title, description, path", str(code)
        )
    for key in table:
        if key not in _LANGUAGE_FIELDS:
            raise _Unknown(f"{where}.{key}", dict.fromkeys(_LANGUAGE_FIELDS))
    try:
        name = str(_language(code)).replace("_", "-")  # as hreflang and <html lang> write it
        path = str(_text("path")(table.get("path", name.lower()))).strip("/")
        if not _SEGMENT.fullmatch(path):
            raise ValueError(
                f"path: {path!r} is not one URL segment of lower-case letters, digits and '-'"
            )
        if path in RESERVED:
            raise ValueError(f"path: {path!r} is where the site's own /{path}/ pages are")
        own = {k: str(_text(k)(table[k])) for k in ("author", "copyright") if k in table}
        return LanguageConfig(
            code=name,
            title=str(_text("title")(table.get("title", ""))),
            description=str(_text("description")(table.get("description", ""))),
            path=path + "/",
            **own,
        )
    except ValueError as exc:
        raise _LanguageProblem(f"{where}: {exc}", str(code)) from None


def _languages(value: object) -> object:
    """``[languages.<code>]`` tables; their titles default to the site's (see _settled)."""
    table = _table("languages")(value)
    assert isinstance(table, dict)
    return tuple(_language_table(code, item) for code, item in table.items())


_SOURCE_FIELDS = ("name", "url", "tags", "category")


class _SourceProblem(ValueError):
    """A problem in the ``index``-th ``[[sources]]`` table (0-based)."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _http_url(name: str, value: object) -> str:
    url = str(_text(name)(value))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name}: {value!r} is not an absolute http(s) URL")
    return url


def _source(index: int, table: object) -> FeedSource:
    where = f"sources[{index + 1}]"
    if not isinstance(table, dict):
        raise _SourceProblem(f"{where}: expected a table with name and url, got {table!r}", index)
    unknown = [key for key in table if key not in _SOURCE_FIELDS]
    if unknown:
        raise _Unknown(f"sources.{unknown[0]}", dict.fromkeys(_SOURCE_FIELDS))
    try:
        if "name" not in table:
            raise ValueError("name: required key is missing")
        tags = table.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"tags: expected a list of strings, got {tags!r}")
        category = table.get("category")
        return FeedSource(
            name=str(_text("name")(table["name"])),
            url=_http_url("url", table.get("url")),
            tags=tuple(t.strip() for t in tags if t.strip()),
            category=str(_text("category")(category)) if category is not None else None,
        )
    except ValueError as exc:
        raise _SourceProblem(f"{where}: {exc}", index) from None


def _sources(value: object) -> object:
    """``[[sources]]`` tables, or the name of an OPML file beside site.toml."""
    if isinstance(value, str):
        name = value.strip()
        if not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"sources: {value!r} is not a file name inside the site folder")
        return name
    if not isinstance(value, list):
        raise ValueError(f"sources: expected [[sources]] tables or an OPML file, got {value!r}")
    return tuple(_source(i, table) for i, table in enumerate(value))


def _table_line(text: str, key: str, index: int) -> int | None:
    """The line of the ``index``-th ``[[key]]`` header."""
    headers = re.finditer(rf"^[ \t]*\[\[\s*{re.escape(key)}\s*\]\]", text, re.MULTILINE)
    for i, match in enumerate(headers):
        if i == index:
            return text.count("\n", 0, match.start()) + 1
    return _key_line(text, key)


_FIELDS: dict[str, Callable[[object], object]] = {
    "title": _text("title"),
    "description": _text("description"),
    "base_url": _base_url,
    "language": _language,
    "timezone": _timezone,
    "author": _text("author"),
    "copyright": _text("copyright"),
    "feed_size": _count("feed_size", 1, 10_000),
    "per_page": _count("per_page", 1, 1_000),
    "extra": _table("extra"),
    "markdown": _markdown,
    "allow_symlinks_outside": _flag("allow_symlinks_outside"),
    "search": _flag("search"),
    "max_article_bytes": _count("max_article_bytes", 1_000, 100_000_000),
    "sources": _sources,
    "languages": _languages,
}
_REQUIRED = ("title", "base_url")


def _key_line(text: str, key: str) -> int | None:
    """The line that sets ``key``: ``key =``, ``[key]``, or ``b =`` / ``a.b =`` for ``a.b``."""
    names = "|".join(re.escape(k) for k in dict.fromkeys((key, key.rpartition(".")[2])))
    pattern = rf"^[ \t]*(?:(?:{names})\s*=|\[\s*{re.escape(key)}\s*\])"
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _parse_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no {CONFIG_NAME} here",
            path=path.name,
            hint="run 'site-builder init DIR' to start a site, or pass --source DIR",
        ) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {CONFIG_NAME}: {exc}", path=path.name) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line, col = (int(found[1]), int(found[2])) if found else (None, None)
        raise ConfigError(
            f"invalid TOML: {message}", path=path.name, line=line, column=col
        ) from None
    except (ValueError, RecursionError) as exc:
        # tomllib lets these through: a number of over 4,300 digits, arrays nested ~1,000 deep.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError(f"invalid TOML: {reason}", path=path.name) from None


def _validate(raw: Mapping[str, Any], text: str) -> tuple[dict[str, object], list[ConfigError]]:
    values: dict[str, object] = {}
    problems: list[ConfigError] = []
    for key, value in raw.items():
        check = _FIELDS.get(key)
        try:
            if check is None:
                raise _Unknown(key, _FIELDS)
            values[key] = check(value)
        except _Unknown as exc:
            line = _key_line(text, exc.key)
            problems.append(
                ConfigError(f"unknown key '{exc.key}'", path=CONFIG_NAME, line=line, hint=exc.hint)
            )
        except _SourceProblem as exc:
            line = _table_line(text, key, exc.index)
            problems.append(ConfigError(str(exc), path=CONFIG_NAME, line=line))
        except _LanguageProblem as exc:
            line = _key_line(text, f"languages.{exc.code}")
            problems.append(ConfigError(str(exc), path=CONFIG_NAME, line=line))
        except ValueError as exc:
            problems.append(ConfigError(str(exc), path=CONFIG_NAME, line=_key_line(text, key)))
    for key in _REQUIRED:
        if key not in raw:
            problems.append(
                ConfigError(
                    f"{key}: required key is missing",
                    path=CONFIG_NAME,
                    hint=f'add a line such as {key} = "..."',
                )
            )
    return values, problems


def _settled_languages(
    values: dict[str, object], text: str
) -> tuple[dict[str, object], list[ConfigError]]:
    """The other languages with the site's title where they give none; the default
    language's own table (as Hugo sites have) only renames the default site."""
    tables = values.get("languages")
    if not isinstance(tables, tuple):
        return values, []
    default = str(values.get("language", "en"))
    others, problems, paths = [], [], set[str]()
    for lang in tables:
        assert isinstance(lang, LanguageConfig)
        line = _key_line(text, f"languages.{lang.code}")
        if lang.code == default:
            values = {**values, "title": lang.title or values.get("title")}
            values["description"] = lang.description or values.get("description", "")
            own = {"author": lang.author, "copyright": lang.copyright}
            values.update((key, value) for key, value in own.items() if value is not None)
            continue
        if lang.path in paths:
            problems.append(
                ConfigError(
                    f"languages.{lang.code}: path {lang.path!r} is another language's",
                    path=CONFIG_NAME,
                    line=line,
                )
            )
        paths.add(lang.path)
        others.append(replace(lang, title=lang.title or str(values.get("title", ""))))
    return {**values, "languages": tuple(others)}, problems


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no password entry
        return None


def _check_output(root: Path, output: Path) -> None:
    """Refuse output folders whose replacement would destroy files the builder does not own.

    A build replaces the whole output folder, so it may be none of the folders below,
    nor contain one of them, nor lie inside the site's own sources.
    """
    shown = output.as_posix()
    if output == Path(output.anchor):
        raise ConfigError(
            f"output directory {shown!r} is the root of the file system", hint=_OUTPUT_HINT
        )
    home = _home()
    if home is not None and home.is_relative_to(output):
        what = "is your home folder" if home == output else "contains your home folder"
        raise ConfigError(f"output directory {shown!r} {what}", hint=_OUTPUT_HINT)
    if root.is_relative_to(output):
        what = "is the site folder" if root == output else "contains the site itself"
        raise ConfigError(f"output directory {shown!r} {what}", hint=_OUTPUT_HINT)
    for inner in (root / "content", root / "templates", root / CACHE_NAME):
        if output.is_relative_to(inner) or inner.is_relative_to(output):
            raise ConfigError(
                f"output directory {output.name!r} overlaps {inner.name}/",
                hint="choose an output folder outside content/ and templates/, e.g. output/",
            )


_OUTPUT_HINT = "choose a folder of its own, e.g. output/ inside the site"


def preview_folder(root: Path) -> Path:
    """Where ``serve`` builds the site: a folder of its own in the cache, never output/,
    so that nothing the preview made (its address in every absolute link) is published."""
    return root.resolve() / CACHE_NAME / "preview"


def load_config(
    root: Path,
    *,
    output: Path | None = None,
    base_url: str | None = None,
    drafts: bool = False,
    future: bool = False,
    preview: bool = False,
) -> SiteConfig:
    """Read ``root/site.toml``; raise ``BuildFailed`` with every problem found.

    ``preview``: for ``serve``, whose site goes to ``preview_folder`` (not ``output``).
    """
    root = root.resolve()
    try:
        raw, text = _parse_toml(root / CONFIG_NAME)
    except ConfigError as exc:
        raise BuildFailed([exc]) from None
    override = base_url or os.environ.get("SITE_BASE_URL")
    if override:
        raw = {**raw, "base_url": override}
    values, problems = _validate(raw, text)
    values, language_problems = _settled_languages(values, text)
    problems += language_problems
    out = (output if output is not None else root / "output").resolve()
    if preview:
        out = preview_folder(root)
    try:
        if not preview:
            _check_output(root, out)
    except ConfigError as exc:
        problems.append(exc)
    if problems:
        raise BuildFailed(problems)
    options = {"drafts": drafts, "future": future, "publishing": not preview}
    return SiteConfig(root=root, output_dir=out, **options, **values)  # type: ignore[arg-type]
