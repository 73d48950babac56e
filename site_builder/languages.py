"""Languages stage: a multilingual site → one placed and planned site per language, in
one output folder, every page linked to the same page in the other languages.

Input: everything ``content/`` holds and the config with its ``[languages.<code>]``
tables. The default language's site is at the root; another's is under its path
(``de/``), made from content/<code>/ and from files that say ``lang: <code>``. The
files every language shares (``static/``, the search index) are written once.
Output: the files of every site (``plan_languages``), and ``Translations``: for each
page, its alternates, for ``hreflang`` links, the language switcher and the sitemap.
Translations of a story are the files with the same path under their language's
folder, or with the same ``translation_key``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from site_builder.config import SHARED_PATHS, SiteConfig
from site_builder.content import Content
from site_builder.errors import ContentError, SiteError, SiteWarning
from site_builder.ledger import give_ids, ledger_file
from site_builder.model import Alternate, Entry, OutputSpec, Site
from site_builder.outputs import OutputGraph, SiteKeys, plan_outputs
from site_builder.permalinks import Redirect, dump_ledger
from site_builder.site import build_site
from site_builder.templates import make_environment

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageSite:
    """One language's placed site, with what the build keeps of it."""

    config: SiteConfig
    site: Site
    content: Content
    redirects: tuple[Redirect, ...]
    ledger: tuple[str, str]  # its ledger file's name and text after this build


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguagePlan:
    """What the preview patches of one language's planned site after a text edit: which
    of its files show which stories, and the environment that renders them (whose
    fragments of the stories' old text must go)."""

    graph: OutputGraph  # its files' paths as its own site has them: no language path
    env: jinja2.Environment


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """Every language's files in one list, and how to key them."""

    specs: list[OutputSpec]
    keys: SiteKeys
    graph: OutputGraph  # the default language's
    env: jinja2.Environment  # the default language's
    languages: tuple[LanguagePlan, ...]  # every language's, in the order of the sites


def _codes(config: SiteConfig) -> tuple[str, ...]:
    return (config.language, *(lang.code for lang in config.languages))


def _folder_language(entry_path: str, config: SiteConfig) -> str | None:
    folder = entry_path.removeprefix("content/").partition("/")[0]
    return folder if folder in _codes(config)[1:] else None


def language_of(entry: Entry, config: SiteConfig) -> str | ContentError:
    """The language an entry is written in: its folder's, else its ``lang:``, else the
    default."""
    by_folder = _folder_language(entry.source_path, config)
    said = entry.extra.get("lang")
    if said is None:
        return by_folder or config.language
    codes = _codes(config)
    line = entry.key_lines.get("lang", 1)
    if said not in codes:
        return ContentError(
            f"lang: {said!r} is not one of the site's languages ({', '.join(codes)})",
            path=entry.source_path,
            line=line,
            hint="add a [languages.<code>] table to site.toml, or correct the code",
        )
    if by_folder is not None and said != by_folder:
        return ContentError(
            f"lang: {said!r} in the folder of {by_folder!r}",
            path=entry.source_path,
            line=line,
            hint=f"move the file out of content/{by_folder}/, or remove the line",
        )
    return str(said)


def split_content(
    content: Content, config: SiteConfig
) -> tuple[dict[str, Content], list[SiteError]]:
    """Each language's entries and files; a file under content/<code>/ named as its own
    site has it (content/de/img.png is the German site's img.png)."""
    entries: dict[str, list[Entry]] = {code: [] for code in _codes(config)}
    problems: list[SiteError] = []
    for entry in content.entries:
        code = language_of(entry, config)
        if isinstance(code, ContentError):
            problems.append(code)
        else:
            entries[code].append(entry)
    assets: dict[str, list[str]] = {code: [] for code in entries}
    for rel in content.assets:
        folder, _, rest = rel.partition("/")
        code = folder if rest and folder in _codes(config)[1:] else config.language
        assets[code].append(rest if code != config.language else rel)
    parts = {
        code: Content(entries=tuple(found), assets=tuple(assets[code]))
        for code, found in entries.items()
    }
    return parts, problems


def translation_key(entry: Entry, config: SiteConfig) -> str:
    """What a story's translations share: its ``translation_key``, else its file's path
    under its language's folder ("articles/hello.md")."""
    given = entry.extra.get("translation_key")
    if isinstance(given, str) and given.strip():
        return "key:" + given.strip()
    rel = entry.source_path.removeprefix("content/")
    folder = _folder_language(entry.source_path, config)
    return "file:" + (rel.partition("/")[2] if folder else rel)


def place_languages(
    config: SiteConfig, content: Content, now: datetime
) -> tuple[list[LanguageSite], list[SiteError]]:
    """Every language's site placed, each with its own ledger; and every problem."""
    parts, problems = split_content(content, config)
    placed = []
    for code, part in parts.items():
        local = config.for_language(code)
        entries, known, id_problems = give_ids(part.entries, local, now)
        site, site_problems = build_site(entries, local, now)
        problems += id_problems + site_problems
        if site is not None and known is not None:
            ledger = (ledger_file(local), dump_ledger(known.ledger))
            placed.append(
                LanguageSite(
                    config=local,
                    site=site,
                    content=part,
                    redirects=tuple(known.redirects),
                    ledger=ledger,
                )
            )
    return placed, [*problems, *_translation_problems(parts, config)]


def _translation_problems(parts: Mapping[str, Content], config: SiteConfig) -> list[SiteError]:
    """A ``translation_key`` no story in another language has (a translation that links
    to one that is missing or misspelt), or that two stories of one language share.
    Drafts and scheduled stories count: a translation in progress is no mistake."""
    keys: dict[str, dict[str, list[Entry]]] = {}
    for code, part in parts.items():
        for entry in part.entries:
            if entry.kind != "digest":
                keys.setdefault(translation_key(entry, config), {}).setdefault(code, []).append(
                    entry
                )
    problems: list[SiteError] = []
    for key, by_language in keys.items():
        if not key.startswith("key:"):
            continue
        alone = len(by_language) == 1
        for entries in by_language.values():
            for entry in entries if alone else entries[1:]:
                problems.append(_key_problem(entry, key[4:], None if alone else entries[0]))
    return problems


def _key_problem(entry: Entry, key: str, twin: Entry | None) -> SiteError:
    what = (
        "no story in another language has it"
        if twin is None
        else f"{twin.source_path} in the same language has it too"
    )
    return SiteWarning(
        f"translation_key: {key!r}: {what}",
        path=entry.source_path,
        line=entry.key_lines.get("translation_key", 1),
        hint="give the translation the same translation_key, or remove the line",
    )


def language_name(code: str) -> str:
    """A language's name in itself, as a switcher shows it: "Deutsch", "日本語"."""
    # Imported here: only a multilingual build needs Babel's names.
    from babel import Locale  # noqa: PLC0415

    name = Locale.parse(code, sep="-").get_display_name() or code
    return name[:1].upper() + name[1:]


class Translations:
    """For each page of each language, the same page in every language."""

    def __init__(self) -> None:
        self._configs: dict[str, SiteConfig] = {}
        self._names: dict[str, str] = {}
        self._pages: dict[str, set[str]] = {}  # language → its pages' URLs
        self._by_key: dict[str, dict[str, str]] = {}  # language → translation key → URL
        self._key_of: dict[str, dict[str, str]] = {}  # language → story URL → key
        self._made: dict[tuple[str, str], tuple[Alternate, ...]] = {}

    def add(self, lang: LanguageSite, specs: Iterable[OutputSpec]) -> None:
        """A language's site and files; every language is added before any ``of``."""
        code = lang.config.language
        self._configs[code] = lang.config
        self._names[code] = language_name(code)
        # Not the 404 page: it is no page of the site to link, and is not indexed.
        pages = {page_url(s.path) for s in specs if _is_page(s.path) and s.path != "404.html"}
        self._pages[code] = pages
        stories = (*lang.site.articles, *lang.site.pages)
        keyed = [(translation_key(s, lang.config), s.url) for s in stories]
        self._by_key[code] = dict(keyed)
        self._key_of[code] = {url: key for key, url in keyed}

    def urls(self, code: str) -> list[str]:
        """The pages of a language's site."""
        return sorted(self._pages[code])

    def of(self, code: str, url: str) -> tuple[Alternate, ...]:
        """``url`` of language ``code`` in every language, the default first: where a
        language lacks the page, its front page (``translated`` false)."""
        made = self._made.get((code, url))
        if made is None:
            made = self._made[code, url] = self._find(code, url)
        return made

    def _find(self, code: str, url: str) -> tuple[Alternate, ...]:
        key = self._key_of.get(code, {}).get(url)
        found = []
        for other, config in self._configs.items():
            if key is not None:
                target = self._by_key[other].get(key)
            else:
                target = url if url in self._pages[other] else None
            where = target or "/"
            found.append(
                Alternate(
                    code=other,
                    name=self._names[other],
                    url=config.absolute(where),
                    path=config.base_path + config.localized(where),
                    translated=target is not None,
                    current=other == code,
                )
            )
        return tuple(found)

    def digest(self, code: str, urls: Iterable[str]) -> str:
        """What the alternates of ``urls`` look like: part of their pages' keys."""
        shown = repr([self.of(code, url) for url in urls]).encode("utf-8", "surrogatepass")
        return hashlib.sha256(shown).hexdigest()


def _is_page(path: str) -> bool:
    return path.endswith(".html")


def page_url(path: str) -> str:
    """The URL an output file is served at: ``de/index.html`` → ``/de/``."""
    return "/" + path.removesuffix("index.html")


class LanguageKeys(SiteKeys):
    """The site parts of every language's site: ``de:articles`` is the German site's."""

    def __init__(self, by_language: Mapping[str, SiteKeys]) -> None:
        super().__init__(by_language[""].site)
        self._by_language = by_language

    def part(self, name: str) -> str:
        code, marked, own = name.rpartition(":")
        return self._by_language[code if marked else ""].part(own)


def plan_languages(sites: Sequence[LanguageSite]) -> Planned:
    """Every language's files under its path, keyed by what they show in every language."""
    translations = Translations()
    planned: list[tuple[LanguageSite, list[OutputSpec]]] = []
    keys: dict[str, SiteKeys] = {}
    plans: list[LanguagePlan] = []
    graph, env = OutputGraph(), None
    for lang in sites:
        local = make_environment(lang.config)
        local.globals["alternates"] = functools.partial(translations.of, lang.config.language)
        alternates = functools.partial(translations.of, lang.config.language)
        specs, site_keys, lang_graph = plan_outputs(
            lang.site, local, lang.config, lang.content, lang.redirects, alternates=alternates
        )
        translations.add(lang, specs)
        mark = lang.config.language if lang.config.language_path else ""
        keys[mark] = site_keys
        planned.append((lang, specs))
        plans.append(LanguagePlan(graph=lang_graph, env=local))
        if not mark:
            graph, env = lang_graph, local
    assert env is not None  # the default language is always placed first
    specs = [
        _localized(spec, lang, translations)
        for lang, own in planned
        for spec in own
        if _belongs(spec.path, lang.config)
    ]
    return Planned(
        specs=sorted(specs, key=lambda s: s.path),
        keys=LanguageKeys(keys),
        graph=graph,
        env=env,
        languages=tuple(plans),
    )


def _belongs(path: str, config: SiteConfig) -> bool:
    """Whether a language's site writes a file: the shared files and robots.txt are the
    default's alone."""
    return not config.language_path or not (path == "robots.txt" or path.startswith(SHARED_PATHS))


def _localized(spec: OutputSpec, lang: LanguageSite, translations: Translations) -> OutputSpec:
    code, prefix = lang.config.language, lang.config.language_path
    if _is_page(spec.path):
        shows = translations.digest(code, [page_url(spec.path)])
    elif spec.path == "sitemap.xml":
        shows = translations.digest(code, translations.urls(code))
    else:
        shows = ""
    key = hashlib.sha256(f"{spec.key}\0{shows}".encode()).hexdigest() if shows else spec.key
    render = functools.partial(_read_as, spec.render, code) if prefix else spec.render
    return OutputSpec(path=prefix + spec.path, key=key, render=render, why=spec.why)


def _read_as(
    render: Callable[[], tuple[bytes, frozenset[str]]], code: str
) -> tuple[bytes, frozenset[str]]:
    """A language's file, with the site parts it read named as that language's."""
    data, reads = render()
    return data, frozenset(f"{code}:{name}" for name in reads)


def next_scheduled(sites: Sequence[LanguageSite]) -> datetime | None:
    """The earliest scheduled story of any language: when the site must be built again."""
    return min((s.site.next_scheduled for s in sites if s.site.next_scheduled), default=None)


def default_site(sites: Sequence[LanguageSite]) -> Site:
    return replace(sites[0].site, next_scheduled=next_scheduled(sites))
