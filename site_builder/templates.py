"""Template stage: Jinja environment, filters and page rendering.

Templates come from the site's ``templates/`` and fall back to the built-in theme,
file by file, so a site overrides only what it changes. Jinja errors become
``TemplateError``s located in the template file.
"""

from __future__ import annotations

import contextlib
import hashlib
import textwrap
import traceback
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.ext
import jinja2.meta
import jinja2.nodes
import markupsafe

from site_builder import __version__
from site_builder.cache import build_fingerprint, cache_folder
from site_builder.config import SiteConfig, template_dirs, theme_dir
from site_builder.errors import TemplateError
from site_builder.i18n import date_filters, load_texts, template_functions
from site_builder.markdown import plain_text
from site_builder.newsletter import html_to_text
from site_builder.site import absolutize

STATIC_DIR = "static"


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled by earlier builds (checked against their source by Jinja):
    compiling the theme was a tenth of a rebuild. One that cannot be saved is not.

    Each is kept under a key of everything compiling it may depend on besides its
    source: the builder's code and libraries, and every setting of the site. Jinja
    folds a filter on a constant (``"/static/style.css"|rel``) into the compiled code,
    and a cache keyed by the source alone gave one site's base path to another build
    (a preview's, or a site moved to a new address). The environment does not fold
    (``optimized=False``) either: this key guards what folding may yet reach.
    """

    def __init__(self, folder: str, settings: str) -> None:
        self.salt = build_fingerprint(settings)
        # Files are named by the settings too, so that sets can be pruned as a whole.
        family = self.salt[:16]
        super().__init__(folder, pattern=f"{family}-%s.cache")
        _use_and_prune(Path(folder), family)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{self.salt}\0{name}\0{filename or ''}"
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


KEPT_SETTINGS = 4


def _use_and_prune(folder: Path, family: str) -> None:
    """Mark the templates compiled for these settings as used, and remove those of all
    but the ``KEPT_SETTINGS`` settings used last: every ``--base-url`` a preview or a
    build was ever given compiled the theme anew, and the folder only grew."""
    with contextlib.suppress(OSError):
        (folder / f"{family}.used").touch()
        marks = sorted(folder.glob("*.used"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        stale = [m.stem for m in marks[KEPT_SETTINGS:]] + ["__jinja2"]  # the older naming
        for old in stale:
            for file in folder.glob(f"{old}[-_]*.cache"):
                file.unlink(missing_ok=True)
        for mark in marks[KEPT_SETTINGS:]:
            mark.unlink(missing_ok=True)


def _compiled_templates(config: SiteConfig) -> jinja2.BytecodeCache | None:
    try:
        return _CompiledTemplates(str(cache_folder(config.root, "templates")), config.fingerprint())
    except OSError:
        return None


class FragmentCache(jinja2.ext.Extension):
    """``{% cache key, ... %}body{% endcache %}``: the body rendered once per build for
    the same key objects, like Hugo's ``partialCached``.

    An article's card is shown in a dozen lists; rendering it once per worker instead of
    once per list saved a sixth of the time of a cold build's pages. Keys are compared
    by identity (the same article, not an equal one, as comparing articles field by
    field costs more than the card), and each entry keeps its keys alive so that no
    other object takes their ids. The body must depend only on its keys and the
    globals: the environment, and so the cache, lasts one build. It holds the
    ``FRAGMENTS`` newest fragments: at 100,000 articles, every card kept made a worker
    the build's largest process (993 MiB).
    """

    FRAGMENTS = 20_000  # two per article of a 10,000-article site: a card at each level

    tags = {"cache"}  # noqa: RUF012 - the type Jinja declares for it

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        self.fragments: dict[tuple[object, ...], tuple[tuple[object, ...], str]] = {}

    def parse(self, parser: Any) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        keys = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            keys.append(parser.parse_expression())
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        where = jinja2.nodes.Const(f"{parser.name}:{lineno}")
        call = self.call_method("_fragment", [where, jinja2.nodes.List(keys)])
        return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _fragment(self, where: str, keys: list[object], caller: Any) -> str:
        key = (where, *map(id, keys))
        found = self.fragments.get(key)
        if found is None:
            if len(self.fragments) >= self.FRAGMENTS:  # the oldest goes: dicts keep order
                del self.fragments[next(iter(self.fragments))]
            found = self.fragments[key] = (tuple(keys), caller())
        return found[1]


def forget_fragments(env: jinja2.Environment) -> None:
    """For the preview, which gives articles new text in place and renders again."""
    env.extensions[FragmentCache.identifier].fragments.clear()  # type: ignore[attr-defined]


def make_environment(config: SiteConfig) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([str(d) for d in template_dirs(config)])
    env = jinja2.Environment(
        loader=loader,
        extensions=[FragmentCache, "jinja2.ext.i18n"],
        auto_reload=False,
        # Nothing folded at compile time: what a filter gives depends on the site's
        # settings, so compiled code must not (see _CompiledTemplates).
        optimized=False,
        bytecode_cache=_compiled_templates(config),
        # Plain text (email.txt) must not be HTML-escaped; anything unknown is, to be safe.
        autoescape=jinja2.select_autoescape(["html", "xml"], ["txt"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Problems of the site's catalogue are reported by the site stage (build_site).
    texts, _ = load_texts(config.language, config.templates_dir)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        texts.translate, texts.plural, newstyle=True
    )
    env.globals.update(template_functions(texts))  # the same, in fewer steps

    def rel(site_path: str) -> str:
        return config.base_path + config.localized(site_path)

    def absolute_links(fragment: str, page_url: str = "/") -> markupsafe.Markup:
        # Trusted HTML from content in, trusted HTML out: only its URLs change.
        return markupsafe.Markup(absolutize(str(fragment), config.absolute(page_url)))

    def content_url(value: str, page_url: str = "/", absolute: bool = False) -> str:
        return config.content_url(value, page_url, absolute=absolute)

    env.filters.update(
        rel=rel,
        content_url=content_url,
        absolute=config.absolute,
        absolute_links=absolute_links,
        **date_filters(texts, config.tz),
        number=texts.number,
        plain=plain_text,
        text=html_to_text,
        wrap=wrap_text,
        truncate_words=truncate_words,
    )
    env.globals.update(config=config, version=__version__, i18n=texts, alternates=_one_language)
    return env


def _one_language(page_url: str) -> tuple[()]:
    """A page's translations (``alternates``): a site in one language has none. A
    multilingual build sets each language's own (``languages.plan_languages``)."""
    return ()


def wrap_text(text: str, indent: str = "") -> str:
    """Plain text wrapped like the email's body; ``indent`` starts every line."""
    return textwrap.indent(html_to_text(str(markupsafe.escape(text))), indent)


def truncate_words(text: str, count: int = 40) -> str:
    words = str(text).split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def _locate(exc: Exception, config: SiteConfig) -> tuple[str | None, int | None]:
    """The template file and line a Jinja exception points at."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return _display_path(exc.filename, config), exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt", ".json")):
            return _display_path(frame.filename, config), frame.lineno
    return None, None


def _display_path(filename: str, config: SiteConfig) -> str:
    path = Path(filename).resolve()
    if path.is_relative_to(config.root):
        return path.relative_to(config.root).as_posix()
    return f"(built-in theme)/{path.relative_to(theme_dir().resolve()).as_posix()}"


def template_error(exc: Exception, config: SiteConfig, name: str) -> TemplateError:
    path, line = _locate(exc, config)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template {exc.name!r} not found"
        path = path or f"templates/{exc.name}"
    compiling = isinstance(exc, jinja2.TemplateSyntaxError)
    return TemplateError(
        message, path=path, line=line, hint=None if compiling else f"while rendering {name}"
    )


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> bytes:
    """Render ``name`` to UTF-8 bytes; Jinja failures become ``TemplateError``."""
    config: SiteConfig = env.globals["config"]  # type: ignore[assignment]
    try:
        return env.get_template(name).render(context).encode("utf-8")
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
        raise template_error(exc, config, name) from None


def check_templates(env: jinja2.Environment, required: Iterable[str]) -> list[TemplateError]:
    """Compile every template up front, so syntax errors are all reported in one build."""
    config: SiteConfig = env.globals["config"]  # type: ignore[assignment]
    names = set(env.list_templates(filter_func=_is_template))
    problems = [
        TemplateError(
            f"template {name!r} not found",
            path=f"templates/{name}",
            hint="every site needs it; copy it from the built-in theme",
        )
        for name in sorted(set(required) - names)
    ]
    for name in sorted(names):
        try:
            env.get_template(name)
        except jinja2.TemplateError as exc:
            problems.append(template_error(exc, config, name))
    return problems


def _is_template(name: str) -> bool:
    return not name.startswith(f"{STATIC_DIR}/") and name.endswith((".html", ".xml", ".txt"))


def template_fingerprint(env: jinja2.Environment, name: str) -> str:
    """A digest of a template and everything it extends, includes or imports."""
    assert env.loader is not None
    digest = hashlib.sha256()
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source, _, _ = env.loader.get_source(env, current)
        except jinja2.TemplateNotFound:
            digest.update(f"missing:{current}".encode())
            continue
        digest.update(current.encode() + b"\0" + source.encode() + b"\0")
        try:
            found = list(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateSyntaxError:
            continue  # reported by check_templates
        # A computed name ({% include var %}) is unknown here: depend on every template.
        pending.extend(env.list_templates() if None in found else [f for f in found if f])
    return digest.hexdigest()


def theme_assets(config: SiteConfig) -> Iterator[tuple[str, Path]]:
    """``(output path, file)`` for every static file; the site's own win over the theme's."""
    seen: set[str] = set()
    for folder in template_dirs(config):
        static = folder / STATIC_DIR
        for path in sorted(static.rglob("*")) if static.is_dir() else ():
            rel = f"{STATIC_DIR}/{path.relative_to(static).as_posix()}"
            if path.is_file() and rel not in seen and not path.name.startswith("."):
                seen.add(rel)
                yield rel, path
