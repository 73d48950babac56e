"""Language stage: the site's language → its theme strings and locale-aware values.

Input: a language code as ``site.toml`` gives it (``ja``, ``pt-BR``, ``zh-Hant``) and the
site's ``templates/`` folder. Output: ``Texts``, one per build, which the templates and
the Python stages ask for every string a reader sees and for every date and number.

Strings come from gettext catalogues: ``site_builder/locales/<id>/LC_MESSAGES/site_builder.po``
ship with the package, and a site overrides or adds strings in
``templates/i18n/<language>.po``. Both are compiled in memory at first use. Dates follow
CLDR's formats through Babel: a theme names a format (``long``, ``month_year``) instead
of giving a ``strftime`` pattern, so that each language writes it in its own order.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nodes
import markupsafe
from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import (
    DateTimeFormat,
    DateTimePattern,
    match_skeleton,
    parse_pattern,
    tokenize_pattern,
)
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal

from site_builder.config import SiteConfig
from site_builder.errors import SiteError, SiteWarning, TemplateError

DOMAIN = "site_builder"
LOCALES_DIR = Path(__file__).parent / "locales"
SITE_CATALOGUES = "i18n"  # templates/i18n/<language>.po
# Named formats a theme passes to the ``date`` filter, as CLDR skeletons: Babel finds
# each language's own pattern for them ("17 August 2021", "2021年8月17日").
SKELETONS = {
    "day_month": "MMMMd",
    "day_month_short": "MMMd",
    "month_year": "yMMMM",
    "time": "Hm",
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
WHOLE_DATES = ("long", "full")  # the locale's own date formats: "17 August 2021"


def locale_of(language: str) -> Locale:
    """The Babel locale of a language code; raises ``ValueError`` for an unknown one.

    Plain ``en`` takes CLDR's international English (``en_001``): day, month, year, as
    the theme always wrote dates. ``en-US`` gives month-first dates.
    """
    try:
        locale = Locale.parse(language.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"language: {language!r} is not a language code Babel knows; "
            "expected e.g. 'en', 'de', 'pt-BR' or 'zh-Hant'"
        ) from None
    if str(locale) == "en":
        return Locale.parse("en_001")
    return locale


def _catalogue_ids(locale: Locale) -> Iterator[str]:
    """Folder names to look for, most specific first: ``zh_Hant_TW``, ``zh_TW``, ``zh_Hant``,
    ``zh``.

    A bare ``zh`` or ``pt`` also tries its likely script and region (``zh_Hans``, ``pt_BR``).
    """
    likely = get_global("likely_subtags").get(locale.language, "")
    forms = [locale, Locale.parse(likely)] if likely else [locale]
    for form in forms:
        lang, script, territory = form.language, form.script, form.territory
        for parts in ((lang, script, territory), (lang, territory), (lang, script), (lang,)):
            if all(parts):
                yield "_".join(parts)  # type: ignore[arg-type]


def package_catalogue(locale: Locale) -> Path | None:
    """The theme's catalogue for ``locale``, or ``None`` (the theme then speaks English)."""
    for name in _catalogue_ids(locale):
        path = LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return None


def catalogue_files(language: str, templates_dir: Path) -> list[Path]:
    """Every catalogue file the strings of ``language`` come from: part of a build's inputs."""
    try:
        package = package_catalogue(locale_of(language))
    except ValueError:
        package = None
    site = templates_dir / SITE_CATALOGUES / f"{language}.po"
    return [p for p in (package, site) if p is not None and p.is_file()]


@dataclass(frozen=True, slots=True)
class _Problem:
    """A problem in a catalogue, before it is given the file's name."""

    line: int | None
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class _Read:
    """A parsed catalogue and the problems found in it."""

    catalog: Catalog | None
    problems: tuple[_Problem, ...]


@functools.lru_cache(maxsize=64)
def _read(data: bytes, language: str) -> _Read:
    """Parse one catalogue. Cached by its bytes: a build parses each once per process
    (the templates and the site stage both ask), and an edited file is new bytes."""
    try:
        catalog = read_po(io.BytesIO(data), locale=language.replace("-", "_"), abort_invalid=True)
    except PoFileError as exc:
        # Babel counts lines from 0: "Unknown or misformatted keyword on 0".
        found = re.search(r"^(.*) on (\d+)$", str(exc))
        line, reason = (int(found[2]) + 1, found[1]) if found else (None, str(exc))
        return _Read(None, (_Problem(line, f"not a valid .po file: {reason}"),))
    except (ValueError, UnicodeDecodeError, UnknownLocaleError) as exc:
        return _Read(None, (_Problem(None, f"cannot read the catalogue: {exc}"),))
    return _Read(catalog, tuple(_check_messages(catalog)))


def _check_messages(catalog: Catalog) -> Iterator[_Problem]:
    """Translations a page could not show: a wrong number of plural forms, or a
    placeholder the English text does not have (rendering would fail)."""
    forms = catalog.num_plurals
    for message in catalog:
        ids, strings = _forms(message.id), _forms(message.string)
        if not message.id or not any(strings):  # the header, or not translated yet
            continue
        names = {n for text in ids for n in _PLACEHOLDER.findall(text)}
        where = f'msgid "{ids[0]}"'
        given = len([text for text in strings if text])  # Babel pads missing forms with ""
        if isinstance(message.id, tuple) and given != forms:
            yield _Problem(
                message.lineno,
                f"{where}: {given} plural forms, but the language has {forms}",
                hint=f"write msgstr[0] to msgstr[{forms - 1}]",
            )
        for text in strings:
            if text and (error := _format_error(text, names)):
                yield _Problem(message.lineno, f"{where}: {error}", _FORMAT_HINT)


def _forms(value: object) -> tuple[str, ...]:
    """A message's one text, or its plural forms."""
    return tuple(map(str, value)) if isinstance(value, tuple | list) else (str(value),)


_FORMAT_HINT = "use the placeholders of the msgid, such as %(num)s; write a percent sign as %%"


def _format_error(text: str, names: set[str]) -> str | None:
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - names)
    if unknown:
        return f"placeholder %({unknown[0]})s is not in the English text"
    try:
        text % dict.fromkeys(names, "")
    except (ValueError, TypeError, KeyError) as exc:
        return f"translation {text!r} does not format: {exc}"
    return None


def _merged(package: Catalog | None, site: Catalog | None, language: str) -> Catalog:
    """The theme's catalogue with the site's messages over it."""
    # Plural forms from Babel's table for the language, as the shipped catalogues' headers
    # say (a test holds them to it).
    merged = Catalog(locale=language.replace("-", "_"), domain=DOMAIN)
    for catalog in (package, site):
        for message in catalog or ():
            if message.id and any(_forms(message.string)) and not message.fuzzy:
                # Setting a message that is there merges the two and keeps the old text.
                merged.delete(message.id, message.context)
                merged[message.id] = message
    return merged


@functools.lru_cache(maxsize=16)
def _compiled(package: bytes, site: bytes, language: str) -> gettext.GNUTranslations:
    """The merged catalogues as a gettext object, compiled in memory once per process."""
    parts = [_read(data, language).catalog if data else None for data in (package, site)]
    buffer = io.BytesIO()
    write_mo(buffer, _merged(parts[0], parts[1], language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _read_file(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError:
        return b""


def load_texts(language: str, templates_dir: Path) -> tuple[Texts, list[SiteError]]:
    """The build's ``Texts``, and every problem of the site's catalogue.

    A language without a theme catalogue is a warning: its pages are right, in English.
    """
    locale = locale_of(language)
    package_path = package_catalogue(locale)
    site_path = templates_dir / SITE_CATALOGUES / f"{language}.po"
    package, site = _read_file(package_path), _read_file(site_path)
    problems: list[SiteError] = []
    if site:
        shown = f"templates/{SITE_CATALOGUES}/{language}.po"
        problems += [
            TemplateError(p.message, path=shown, line=p.line, hint=p.hint)
            for p in _read(site, language).problems
        ]
    if package_path is None and not site and locale.language != "en":
        problems.append(
            SiteWarning(
                f"language: the built-in theme has no translation for {language!r}; "
                "its strings stay in English",
                path="site.toml",
                hint=f"add templates/{SITE_CATALOGUES}/{language}.po with the theme's strings",
            )
        )
    if problems and any(not isinstance(p, SiteWarning) for p in problems):
        site = b""  # a broken site catalogue is reported, and not used
    return Texts(language, locale, _compiled(package, site, language)), problems


def plural_forms(language: str) -> str:
    """The ``Plural-Forms`` header Babel's CLDR-based table gives a language."""
    count, expression = get_plural(locale_of(language))
    return f"nplurals={count}; plural={expression};"


class Texts:
    """One build's strings and formats in the site's language.

    Made once per build (per worker): patterns are parsed once and each date is
    formatted once, as pages show the same dates many times.
    """

    __slots__ = ("_dates", "_intervals", "_patterns", "_translations", "language", "locale")

    def __init__(
        self, language: str, locale: Locale, translations: gettext.NullTranslations
    ) -> None:
        self.language, self.locale, self._translations = language, locale, translations
        self._patterns: dict[str, DateTimePattern] = {}
        self._dates: dict[tuple[date, str], str] = {}
        self._intervals: dict[str, tuple[tuple[Token, ...], str, tuple[Token, ...]]] = {}

    @property
    def direction(self) -> str:
        """``rtl`` for Arabic, Hebrew, Persian, Urdu...; ``ltr`` otherwise."""
        return "rtl" if self.locale.text_direction == "rtl" else "ltr"

    @property
    def back(self) -> str:
        """An arrow towards the start of a line: left, or right in a right-to-left language."""
        return "→" if self.direction == "rtl" else "←"

    @property
    def forward(self) -> str:
        return "←" if self.direction == "rtl" else "→"

    @property
    def comma(self) -> str:
        """What stands between the items of a list, from CLDR's list patterns: ", ",
        "、" in Japanese and Chinese, " و" in Arabic."""
        middle = str(self.locale.list_patterns["standard"]["middle"])
        return middle.replace("{0}", "").replace("{1}", "")

    def translate(self, message: str) -> str:
        """The message in the language, placeholders and all."""
        return self._translations.gettext(message)

    def gettext(self, message: str, **values: object) -> str:
        # Formatted always, as in templates: a translation may write %% for a percent sign.
        return self._translations.gettext(message) % values

    def plural(self, singular: str, plural: str, count: int) -> str:
        """The form for ``count``, its ``%(num)s`` already written in the language's digits."""
        text = self._translations.ngettext(singular, plural, count)
        return text.replace("%(num)s", self.number(count))

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        return self.plural(singular, plural, count) % values

    def number(self, value: int) -> str:
        # Below a thousand every locale writes the digits as they are (Babel uses Latin
        # digits everywhere); asking Babel costs ten times more, on every count shown.
        if -1000 < value < 1000:
            return str(value)
        return format_decimal(value, locale=self.locale)

    def pattern(self, fmt: str) -> DateTimePattern:
        found = self._patterns.get(fmt)
        if found is None:
            skeleton = SKELETONS.get(fmt)
            if fmt in WHOLE_DATES:
                found = self.locale.date_formats[fmt]
            elif skeleton is None:
                known = ", ".join((*WHOLE_DATES, *SKELETONS))
                raise ValueError(f"unknown date format {fmt!r}; known: {known}")
            else:
                formats = self.locale.datetime_skeletons
                found = parse_pattern(_best(formats, skeleton).pattern)
            self._patterns[fmt] = found
        return found

    def format_date(self, value: date, fmt: str = "long") -> str:
        """``value`` (already in the site's time zone) in a named format."""
        key = (value, fmt)
        shown = self._dates.get(key)
        if shown is None:
            shown = self._dates[key] = self.pattern(fmt).apply(value, self.locale)
        return shown

    def month(self, value: date) -> str:
        """The month's name as it stands alone (a heading): "August", "sierpień"."""
        return str(self.locale.months["stand-alone"]["wide"][value.month])

    def week(self, year: int, week: int) -> str:
        """An ISO week as the language names it: "week 33 of 2021", "2021年第33週".

        CLDR's week fields count weeks by the locale's own rules; an issue is an ISO
        week, so its number and year are put in as they are.
        """
        formats = self.locale.datetime_skeletons
        tokens = _tokens(_best(formats, "yw").pattern)
        fixed = {"w": week, "Y": year, "y": year}
        return _apply(tokens, date(year, 1, 4), self.locale, fixed)

    def date_range(self, start: date, end: date) -> tuple[str, str, str]:
        """``(start text, separator, end text)`` of an interval, as CLDR writes it:
        ("16", en dash, "22 August 2021"); ("2021年8月16日", wave dash, "22日")."""
        differs = "y" if start.year != end.year else "M" if start.month != end.month else "d"
        found = self._intervals.get(differs)
        if found is None:  # finding the patterns is most of the time: once per build
            found = self._intervals[differs] = self._interval(differs)
        head, separator, tail = found
        return _apply(head, start, self.locale), separator, _apply(tail, end, self.locale)

    def _interval(self, differs: str) -> tuple[tuple[Token, ...], str, tuple[Token, ...]]:
        """The start's pattern, the separator and the end's pattern of a range of days
        whose year, month or day (``differs``) changes."""
        patterns = _best(self.locale.interval_formats, "yMMMMd")
        wide = _is_wide(self.locale.datetime_skeletons, "yMMMMd")
        first, second = (_widened(p, wide) for p in patterns.get(differs) or patterns["y"])
        last = max(i for i, t in enumerate(first) if t[0] == "field")
        trailing = "".join(str(t[1]) for t in first[last + 1 :])
        # The literal after the last field may end the date (the "日" of "16日" before
        # the dash): it does when the end's pattern has the same literal after that field.
        after = _after(second, first[last][1])
        kept = os.path.commonprefix([trailing, after]).rstrip()  # noqa: RUF071 - characters
        return (*first[: last + 1], ("chars", kept)), trailing[len(kept) :], second


Token = tuple[str, Any]


def _best(formats: Mapping[str, Any], skeleton: str) -> Any:
    """The entry of ``formats`` closest to ``skeleton`` (CLDR's root locale has them all)."""
    key = match_skeleton(skeleton, formats)
    if key is None:
        raise ValueError(f"no date format like {skeleton!r}")
    return formats[key]


@functools.lru_cache(maxsize=256)
def _tokens(pattern: str) -> tuple[Token, ...]:
    return tuple(tokenize_pattern(pattern))


def _is_wide(formats: Mapping[str, DateTimePattern], skeleton: str) -> bool:
    """Whether the language writes ``skeleton``'s month as a full name (not "8月")."""
    tokens = _tokens(_best(formats, skeleton).pattern)
    return ("field", ("M", 4)) in tokens or ("field", ("L", 4)) in tokens


@functools.lru_cache(maxsize=256)
def _widened(pattern: str, wide: bool) -> tuple[Token, ...]:
    """An interval pattern with full month names where the language's dates have them:
    CLDR often has intervals only for abbreviated months, and its matching rules widen
    a field to the width asked for."""
    return tuple(
        ("field", (t[1][0], 4)) if wide and t[0] == "field" and t[1] in (("M", 3), ("L", 3)) else t
        for t in _tokens(pattern)
    )


def _after(tokens: tuple[Token, ...], field: Any) -> str:
    """The literal text after ``field`` in ``tokens``."""
    for i, token in enumerate(tokens):
        if token == ("field", field):
            rest = itertools.takewhile(lambda t: t[0] == "chars", tokens[i + 1 :])
            return "".join(str(t[1]) for t in rest)
    return ""


def _apply(
    tokens: Iterable[Token], value: date, locale: Locale, fixed: Mapping[str, int] | None = None
) -> str:
    """Tokens of a CLDR pattern filled in; ``fixed`` gives some fields' numbers."""
    fields = DateTimeFormat(value, locale)
    parts = []
    for kind, token in tokens:
        if kind == "chars":
            parts.append(str(token))
            continue
        char, width = token
        if fixed and char in fixed:
            parts.append(str(fixed[char]).zfill(width))
        else:
            parts.append(fields[char * width])
    return "".join(parts)


def overlay_title(config: SiteConfig, count: int) -> str:
    """The preview's error overlay heading in the site's language, for the server to
    send as ``title`` with the errors of a failed build."""
    texts, _ = load_texts(config.language, config.templates_dir)
    return texts.ngettext(
        "Build failed: %(num)s error. This page is the last good build; "
        "fix the files and it updates.",
        "Build failed: %(num)s errors. This page is the last good build; "
        "fix the files and it updates.",
        count,
    )


def date_filters(texts: Texts, tz: tzinfo) -> dict[str, Callable[..., object]]:
    """The templates' date filters: ``date``, ``time_tag``, ``date_range``, ``isodate``.

    A format is a name (``long``, ``full``, ``day_month``, ``day_month_short``,
    ``month``, ``month_year``, ``time``), written as the site's language writes it; a
    ``strftime`` pattern (``"%Y-%m-%d"``) still works, as site templates may use one.
    """

    def local(value: datetime | date) -> datetime | date:
        return value.astimezone(tz) if isinstance(value, datetime) else value

    def show_date(value: datetime | date, fmt: str = "long") -> str:
        shown = local(value)
        if "%" in fmt:
            return shown.strftime(fmt)
        return texts.month(shown) if fmt == "month" else texts.format_date(shown, fmt)

    def isodate(value: datetime | date) -> str:
        # HTML's <time datetime> allows at most three fractional digits; whole seconds suffice.
        if isinstance(value, datetime):
            return local(value.replace(microsecond=0)).isoformat()
        return value.isoformat()

    tags: dict[tuple[datetime | date, str], markupsafe.Markup] = {}

    def time_tag(value: datetime | date, fmt: str = "long") -> markupsafe.Markup:
        # A macro did this; as a filter it takes a tenth of the time, and pages show dozens.
        # Each story's date is shown on many pages: made once per build.
        found = tags.get((value, fmt))
        if found is None:
            machine, human = (
                markupsafe.escape(isodate(value)),
                markupsafe.escape(show_date(value, fmt)),
            )
            found = tags[value, fmt] = markupsafe.Markup(
                f'<time datetime="{machine}">{human}</time>'
            )
        return found

    def date_range(start: date, end: date) -> markupsafe.Markup:
        """A range of days ("16-22 August 2021"), each end a <time>; one date for one day."""
        if start == end:
            return time_tag(start)
        first, separator, last = texts.date_range(start, end)
        escape = markupsafe.escape
        return markupsafe.Markup(
            f'<time datetime="{start.isoformat()}">{escape(first)}</time>{escape(separator)}'
            f'<time datetime="{end.isoformat()}">{escape(last)}</time>'
        )

    return {"date": show_date, "isodate": isodate, "time_tag": time_tag, "date_range": date_range}


def catalogue_fingerprint(language: str, templates_dir: Path) -> str:
    """A digest of the catalogues a build's strings come from, for the outputs' keys."""
    digest = hashlib.sha256(language.encode())
    for path in catalogue_files(language, templates_dir):
        digest.update(b"\0" + _read_file(path))
    return digest.hexdigest()


def template_functions(texts: Texts) -> dict[str, Callable[..., object]]:
    """``_``, ``gettext`` and ``ngettext`` for templates, as Jinja's new-style gettext has
    them (values by name, HTML-escaped where the template escapes).

    Jinja's own pass each call through the template context three times; pages call
    them some forty times each, and that was most of what the language cost a build.
    """

    plain: dict[tuple[str, bool], str] = {}  # messages without values: most of them

    @jinja2.pass_eval_context
    def gettext(context: jinja2.nodes.EvalContext, message: str, **values: object) -> str:
        if not values and (message, context.autoescape) in plain:
            return plain[message, context.autoescape]
        text = texts.translate(message)
        shown = (markupsafe.Markup(text) if context.autoescape else text) % values
        if not values:
            plain[message, context.autoescape] = shown
        return shown

    counted: dict[tuple[str, int, bool], str] = {}  # "2 min read": only the count varies

    @jinja2.pass_eval_context
    def ngettext(
        context: jinja2.nodes.EvalContext, singular: str, plural: str, num: int, **values: object
    ) -> str:
        key = (singular, num, context.autoescape)
        if not values and key in counted:
            return counted[key]
        text = texts.plural(singular, plural, num)
        shown = (markupsafe.Markup(text) if context.autoescape else text) % {"num": num, **values}
        if not values:
            counted[key] = shown
        return shown

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
