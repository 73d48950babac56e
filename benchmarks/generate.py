"""Seeded generator of synthetic tech-news sites for the build benchmarks.

One seed yields the same articles in every flavour (site_builder, Hugo, Pelican),
so the builders are timed on identical content and only the file layout and the
metadata syntax differ.  Articles are streamed one at a time, so 100,000 of them
never sit in memory together.

    python benchmarks/generate.py --articles 1000 --seed 42 --flavour hugo OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import string
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / "peers"
FLAVOURS = ("site_builder", "hugo", "pelican")
# Where each flavour keeps its article files, relative to the site root.
CONTENT_SUBDIR = {
    "site_builder": Path("content/articles"),
    "hugo": Path("content/articles"),
    "pelican": Path("content"),
}
LAST_DAY = date(2026, 10, 31)
PER_DAY = 10
BODY_WORDS = (600, 900)
CODE_SHARE = 1 / 3
ORDERED_LIST_SHARE = 0.4
SECOND_LIST_SHARE = 0.5
SENTENCE_WORDS = (8, 24)
# A closing sentence shorter than this reads oddly; it is folded into the last.
MIN_SENTENCE_WORDS = 5
# Cumulative chances that a sentence gets one inline span of each kind.
INLINE_SPANS = (
    (0.12, "`{}`"),
    (0.20, "**{}**"),
    (0.25, "*{}*"),
    (0.31, "[{}](https://docs.example.org/{slug})"),
)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Site-wide settings shared by every flavour so their outputs compare."""

    title: str = "Bench Digest"
    description: str = "Synthetic benchmark site"
    base_url: str = "https://bench.example.org/"
    language: str = "en"
    timezone: str = "UTC"
    author: str = "Bench"
    feed_size: int = 20
    per_page: int = 10


SITE = SiteConfig()


@dataclass(frozen=True, slots=True)
class Source:
    """The outlet an article summarises."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Article:
    """One synthetic article, independent of any flavour's file format."""

    slug: str
    title: str
    date: datetime
    tags: tuple[str, ...]
    category: str
    author: str
    summary: str
    source: Source
    body: str


# --- vocabulary -----------------------------------------------------------------

TAGS = (
    "ai", "rust", "python", "linux", "security", "cloud", "kubernetes", "javascript",
    "open-source", "databases", "privacy", "hardware", "go", "webassembly", "devops",
    "machine-learning", "networking", "compilers", "browsers", "mobile", "android",
    "ios", "gpu", "semiconductors", "startups", "regulation", "funding", "gaming",
    "typescript", "postgres", "sqlite", "observability", "performance", "testing",
    "cryptography", "quantum", "robotics", "space", "energy", "edge", "serverless",
    "containers", "embedded", "risc-v", "arm", "x86", "firmware", "supply-chain",
    "vulnerabilities", "patches", "releases", "standards", "accessibility", "ux",
    "data-engineering", "streaming", "storage", "filesystems", "kernels", "careers",
)  # fmt: skip
CATEGORIES = (
    "Programming", "Security", "Cloud", "Hardware",
    "Open Source", "Science", "Business", "Mobile",
)  # fmt: skip
AUTHORS = (
    "Ada Brennan", "Bilal Okafor", "Chen Wei", "Dana Kowalski", "Elif Yilmaz",
    "Farid Haddad", "Greta Lindqvist", "Hiro Tanaka", "Ines Moreau", "Jonas Weber",
    "Kavya Raman", "Liam O'Connor", "Maya Goldberg", "Nuno Ferreira", "Olga Petrova",
)  # fmt: skip
SOURCES = (
    ("Packet Herald", "https://packetherald.example.com"),
    ("The Byte Ledger", "https://byteledger.example.net"),
    ("Kernel Weekly", "https://kernelweekly.example.org"),
    ("Silicon Tide", "https://silicontide.example.com"),
    ("Stack Gazette", "https://stackgazette.example.io"),
    ("Open Wire", "https://openwire.example.org"),
    ("Cloud Courier", "https://cloudcourier.example.com"),
    ("Patch Notes Daily", "https://patchnotes.example.net"),
    ("The Compile Times", "https://compiletimes.example.com"),
    ("Threat Beacon", "https://threatbeacon.example.org"),
    ("Mobile Dispatch", "https://mobiledispatch.example.com"),
    ("Quantum Post", "https://quantumpost.example.io"),
)
COMPANIES = (
    "Nimbus Labs", "Quantix", "Helix Cloud", "Orbital Silicon", "Parallax AI",
    "Bytewise", "Corvid Security", "Lattice OS", "Northwind Chips", "Tessellate",
    "Kestrel DB", "Arcadia Networks", "Vantage Mobile", "Cobalt Compute",
)  # fmt: skip
PROJECTS = (
    "Rust", "Python", "Linux", "Kubernetes", "PostgreSQL", "Firefox", "LLVM",
    "WebAssembly", "Debian", "SQLite", "Go", "Node.js", "OpenSSL", "Git", "Zig",
    "Nginx", "Redis", "FreeBSD", "Chromium", "TypeScript",
)  # fmt: skip
NOUNS = (
    "kernel", "compiler", "scheduler", "runtime", "database", "cluster", "browser",
    "framework", "library", "toolchain", "container", "registry", "pipeline", "chip",
    "processor", "GPU", "model", "dataset", "protocol", "standard", "patch", "cache",
    "release", "benchmark", "allocator", "driver", "firmware", "hypervisor", "router",
    "network", "API", "endpoint", "service", "queue", "stream", "index", "query",
    "transaction", "backup", "vulnerability", "exploit", "certificate", "token",
    "satellite", "battery", "sensor", "display", "laptop", "phone", "server",
    "datacenter", "startup", "vendor", "maintainer", "contributor", "roadmap",
    "license", "fork", "repository", "commit", "branch", "regression", "feature",
    "workload", "latency", "throughput", "memory", "storage", "filesystem", "editor",
    "terminal", "plugin", "extension", "interpreter", "codebase", "team", "user",
)  # fmt: skip
VERBS = (
    "ships", "releases", "patches", "deprecates", "rewrites", "benchmarks", "forks",
    "open-sources", "acquires", "delays", "announces", "previews", "drops", "audits",
    "doubles", "halves", "migrates", "optimises", "secures", "breaks", "fixes",
    "reworks", "expands", "retires", "launches", "tests", "replaces", "speeds up",
)  # fmt: skip
ADJECTIVES = (
    "new", "faster", "experimental", "stable", "open", "proprietary", "critical",
    "long-awaited", "controversial", "lightweight", "distributed", "encrypted",
    "incremental", "parallel", "portable", "memory-safe", "low-latency", "modular",
    "unified", "native", "legacy", "upstream", "default", "optional", "public",
)  # fmt: skip
FUNCTION_WORDS = (
    "the", "a", "of", "to", "and", "in", "for", "with", "on", "that", "is", "was",
    "by", "from", "as", "its", "their", "which", "while", "after", "before", "across",
    "under", "over", "than", "more", "less", "this", "those", "it", "they", "we",
    "has", "have", "will", "can", "could", "should", "not", "also", "only", "now",
)  # fmt: skip
# Function words appear twice so the prose has a plausible texture.
WORD_POOL = FUNCTION_WORDS * 2 + NOUNS + VERBS + ADJECTIVES
ROLES = ("maintainer", "CTO", "security lead", "analyst", "core developer", "founder")
OFFSETS_MINUTES = (0, 0, 60, 120, -240, -300, -420, -480, 330, 540, 600)

CODE_SNIPPETS = {
    "python": (
        "def {name}(items: list[int]) -> int:\n"
        "    total = 0\n"
        "    for item in items:\n"
        "        if item % 2 == 0:\n"
        "            total += item\n"
        "    return total\n\n\n"
        "print({name}([1, 2, 3, 4]))"
    ),
    "rust": (
        "fn {name}(values: &[u64]) -> u64 {{\n"
        "    values.iter().filter(|v| **v > 10).sum()\n"
        "}}\n\n"
        "fn main() {{\n"
        '    println!("{{}}", {name}(&[3, 14, 15, 92]));\n'
        "}}"
    ),
    "go": (
        "package main\n\n"
        'import "fmt"\n\n'
        "func {name}(xs []int) int {{\n"
        "\tmax := xs[0]\n"
        "\tfor _, x := range xs {{\n"
        "\t\tif x > max {{\n"
        "\t\t\tmax = x\n"
        "\t\t}}\n"
        "\t}}\n"
        "\treturn max\n"
        "}}\n\n"
        "func main() {{ fmt.Println({name}([]int{{4, 8, 15}})) }}"
    ),
    "javascript": (
        "async function {name}(url) {{\n"
        "  const response = await fetch(url);\n"
        "  if (!response.ok) throw new Error(`HTTP ${{response.status}}`);\n"
        "  return response.json();\n"
        "}}\n\n"
        '{name}("https://api.example.org/items").then(console.log);'
    ),
    "bash": (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        "for host in alpha beta gamma; do\n"
        '  ssh "$host" "uptime && df -h /" | tee "{name}-$host.log"\n'
        "done"
    ),
    "sql": (
        "SELECT author, count(*) AS {name}\n"
        "FROM articles\n"
        "WHERE published_at > now() - interval '7 days'\n"
        "GROUP BY author\n"
        "ORDER BY {name} DESC\n"
        "LIMIT 10;"
    ),
    "yaml": (
        "services:\n"
        "  {name}:\n"
        "    image: registry.example.org/{name}:1.4\n"
        "    ports:\n"
        '      - "8080:8080"\n'
        "    environment:\n"
        "      LOG_LEVEL: debug"
    ),
    "c": (
        "#include <stdio.h>\n\n"
        "static int {name}(const int *xs, size_t n) {{\n"
        "    int acc = 0;\n"
        "    for (size_t i = 0; i < n; i++) acc ^= xs[i];\n"
        "    return acc;\n"
        "}}\n\n"
        'int main(void) {{ int v[] = {{1, 2, 3}}; printf("%d\\n", {name}(v, 3)); }}'
    ),
}
CODE_LANGUAGES = tuple(CODE_SNIPPETS)


def _zipf_weights(count: int, exponent: float) -> list[float]:
    """Cumulative weights so a few tags/categories dominate, as on real sites."""
    cumulative: list[float] = []
    total = 0.0
    for rank in range(1, count + 1):
        total += rank**-exponent
        cumulative.append(total)
    return cumulative


TAG_WEIGHTS = _zipf_weights(len(TAGS), 0.8)
CATEGORY_WEIGHTS = _zipf_weights(len(CATEGORIES), 0.5)


# --- prose ----------------------------------------------------------------------


def _decorate(rng: random.Random, words: list[str]) -> None:
    """Sprinkle inline Markdown so the builders' inline parsers have work to do."""
    roll = rng.random()
    spot = rng.randrange(len(words))
    for threshold, pattern in INLINE_SPANS:
        if roll < threshold:
            words[spot] = pattern.format(words[spot], slug=slugify(words[spot]))
            return


def _sentence(rng: random.Random, length: int, *, markup: bool = True) -> str:
    words = rng.choices(WORD_POOL, k=length)
    if markup:
        _decorate(rng, words)
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _prose(rng: random.Random, word_count: int, *, markup: bool = True) -> str:
    """Exactly `word_count` words of sentences (markup does not add words)."""
    sentences: list[str] = []
    left = word_count
    while left > 0:
        length = rng.randint(*SENTENCE_WORDS)
        if left - length < MIN_SENTENCE_WORDS:
            length = left
        sentences.append(_sentence(rng, length, markup=markup))
        left -= length
    return " ".join(sentences)


def _heading(rng: random.Random) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(FUNCTION_WORDS)]
    words.append(rng.choice(NOUNS))
    text = " ".join(words[: rng.randint(2, 4)])
    return text[0].upper() + text[1:]


# --- body blocks ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """A Markdown block and how many prose words it contributes."""

    text: str
    words: int


def _list_block(rng: random.Random) -> Block:
    ordered = rng.random() < ORDERED_LIST_SHARE
    items: list[str] = []
    words = 0
    for number in range(1, rng.randint(3, 6) + 1):
        length = rng.randint(4, 12)
        marker = f"{number}." if ordered else "-"
        items.append(f"{marker} {_prose(rng, length)}")
        words += length
    return Block("\n".join(items), words)


def _quote_block(rng: random.Random) -> Block:
    length = rng.randint(15, 40)
    person = rng.choice(AUTHORS)
    role = f"{rng.choice(ROLES)} at {rng.choice(COMPANIES)}"
    text = f"> {_prose(rng, length)}\n>\n> -- {person}, {role}"
    return Block(text, length + len(person.split()) + len(role.split()))


def _code_block(rng: random.Random) -> Block:
    language = rng.choice(CODE_LANGUAGES)
    name = f"{rng.choice(NOUNS).lower()}_{rng.choice(VERBS).split()[0]}".replace("-", "_")
    code = CODE_SNIPPETS[language].format(name=name)
    return Block(f"```{language}\n{code}\n```", 0)


def _extras(rng: random.Random, sections: int) -> dict[int, list[Block]]:
    """Lists and a blockquote in every article, code in about a third."""
    extras: dict[int, list[Block]] = {index: [] for index in range(sections)}
    extras[rng.randrange(sections)].append(_list_block(rng))
    if rng.random() < SECOND_LIST_SHARE:
        extras[rng.randrange(sections)].append(_list_block(rng))
    extras[rng.randrange(sections)].append(_quote_block(rng))
    if rng.random() < CODE_SHARE:
        extras[rng.randrange(sections)].append(_code_block(rng))
    return extras


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """Split `total` words into `parts` paragraph lengths of varying size."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, round(weight * scale)) for weight in weights[:-1]]
    sizes.append(max(1, total - sum(sizes)))
    return sizes


def _body(rng: random.Random) -> str:
    target = rng.randint(*BODY_WORDS)
    sections = rng.randint(3, 5)
    headings = [_heading(rng) for _ in range(sections)]
    extras = _extras(rng, sections)
    fixed = sum(len(h.split()) for h in headings)
    fixed += sum(block.words for blocks in extras.values() for block in blocks)
    paragraph_counts = [rng.randint(1, 2)] + [rng.randint(1, 3) for _ in headings]
    sizes = iter(_split(rng, target - fixed, sum(paragraph_counts)))
    parts = [_prose(rng, next(sizes)) for _ in range(paragraph_counts[0])]
    for index, heading in enumerate(headings):
        paragraphs = [_prose(rng, next(sizes)) for _ in range(paragraph_counts[index + 1])]
        blocks = [block.text for block in extras[index]]
        parts += [f"## {heading}", paragraphs[0], *blocks, *paragraphs[1:]]
    return "\n\n".join(parts) + "\n"


# --- articles -------------------------------------------------------------------


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII slug, cut at a word boundary so URLs stay short."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "article"


def _unique(slug: str, seen: set[str]) -> str:
    candidate, suffix = slug, 2
    while candidate in seen:
        candidate, suffix = f"{slug}-{suffix}", suffix + 1
    seen.add(candidate)
    return candidate


def _title(rng: random.Random) -> str:
    company, project = rng.choice(COMPANIES), rng.choice(PROJECTS)
    adj, noun, verb = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)
    version = f"{rng.randint(1, 30)}.{rng.randint(0, 20)}"
    # Colons, quotes and apostrophes keep front-matter quoting honest.
    templates = (
        f"{company} {verb} {adj} {noun} for {project}",
        f"{project} {version}: {adj} {noun} and {rng.choice(NOUNS)} changes",
        f"What's new in {project} {version}",
        f'{company} {verb} "{adj} {noun}" after {rng.choice(NOUNS)} review',
        f"{adj} {noun} in {project} cuts {rng.choice(NOUNS)} cost by {rng.randint(5, 90)}%",
        f"Why {company} {verb} its {noun}",
    )
    title = rng.choice(templates)
    return title[0].upper() + title[1:]


def _weighted_pick(
    rng: random.Random, population: Sequence[str], cum_weights: list[float], count: int
) -> tuple[str, ...]:
    picked: list[str] = []
    while len(picked) < count:
        choice = rng.choices(population, cum_weights=cum_weights)[0]
        if choice not in picked:
            picked.append(choice)
    return tuple(picked)


def _published(rng: random.Random, index: int) -> datetime:
    """About ten articles a day, newest first, ending on LAST_DAY."""
    day = LAST_DAY - timedelta(days=index // PER_DAY)
    clock = time(rng.randint(6, 22), rng.randint(0, 59))
    zone = timezone(timedelta(minutes=rng.choice(OFFSETS_MINUTES)))
    return datetime.combine(day, clock, tzinfo=zone)


def _article(rng: random.Random, index: int, seen: set[str]) -> Article:
    title = _title(rng)
    slug = _unique(slugify(title), seen)
    published = _published(rng, index)
    outlet, outlet_url = rng.choice(SOURCES)
    return Article(
        slug=slug,
        title=title,
        date=published,
        tags=_weighted_pick(rng, TAGS, TAG_WEIGHTS, rng.randint(2, 4)),
        category=_weighted_pick(rng, CATEGORIES, CATEGORY_WEIGHTS, 1)[0],
        author=rng.choice(AUTHORS),
        summary=_prose(rng, rng.randint(15, 30), markup=False),
        source=Source(outlet, f"{outlet_url}/{published:%Y/%m/%d}/{slug}"),
        body=_body(rng),
    )


def generate_articles(count: int, seed: int) -> Iterator[Article]:
    """Yield `count` articles; the sequence depends only on `count` and `seed`."""
    rng = random.Random(seed)
    seen: set[str] = set()
    for index in range(count):
        yield _article(rng, index, seen)


# --- flavours -------------------------------------------------------------------


def _quoted(value: str) -> str:
    # A JSON string is also a valid YAML double-quoted scalar.
    return json.dumps(value, ensure_ascii=False)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _yaml_list(key: str, values: Iterable[str]) -> list[str]:
    return [f"{key}:", *(f"  - {_quoted(value)}" for value in values)]


def site_builder_markdown(article: Article) -> str:
    """YAML front matter in the shape site_builder documents."""
    lines = [
        "---",
        f"title: {_quoted(article.title)}",
        f"date: {_iso(article.date)}",
        *_yaml_list("tags", article.tags),
        f"category: {_quoted(article.category)}",
        f"author: {_quoted(article.author)}",
        f"summary: {_quoted(article.summary)}",
        "source:",
        f"  name: {_quoted(article.source.name)}",
        f"  url: {_quoted(article.source.url)}",
        "---",
    ]
    return "\n".join(lines) + "\n\n" + article.body


def hugo_markdown(article: Article) -> str:
    """YAML front matter using Hugo's plural taxonomy keys."""
    lines = [
        "---",
        f"title: {_quoted(article.title)}",
        f"date: {_iso(article.date)}",
        *_yaml_list("tags", article.tags),
        *_yaml_list("categories", [article.category]),
        *_yaml_list("authors", [article.author]),
        f"summary: {_quoted(article.summary)}",
        "source:",
        f"  name: {_quoted(article.source.name)}",
        f"  url: {_quoted(article.source.url)}",
        "---",
    ]
    return "\n".join(lines) + "\n\n" + article.body


def pelican_markdown(article: Article) -> str:
    """Pelican's `Key: value` Markdown metadata header."""
    lines = [
        f"Title: {article.title}",
        f"Date: {_iso(article.date)}",
        f"Tags: {', '.join(article.tags)}",
        f"Category: {article.category}",
        f"Author: {article.author}",
        f"Slug: {article.slug}",
        f"Summary: {article.summary}",
        f"Source_name: {article.source.name}",
        f"Source_url: {article.source.url}",
    ]
    return "\n".join(lines) + "\n\n" + article.body


RENDERERS = {
    "site_builder": site_builder_markdown,
    "hugo": hugo_markdown,
    "pelican": pelican_markdown,
}


def _template_values(config: SiteConfig) -> dict[str, str]:
    return {
        "title": config.title,
        "description": config.description,
        "base_url": config.base_url,
        "site_url": config.base_url.rstrip("/"),
        "language": config.language,
        "timezone": config.timezone,
        "author": config.author,
        "feed_size": str(config.feed_size),
        "per_page": str(config.per_page),
    }


def _fill(template_name: str, config: SiteConfig) -> str:
    template = string.Template((PEERS_DIR / template_name).read_text(encoding="utf-8"))
    return template.substitute(_template_values(config))


def site_toml(config: SiteConfig) -> str:
    """site_builder's configuration file."""
    return (
        f"title = {_quoted(config.title)}\n"
        f"description = {_quoted(config.description)}\n"
        f"base_url = {_quoted(config.base_url)}\n"
        f"language = {_quoted(config.language)}\n"
        f"timezone = {_quoted(config.timezone)}\n"
        f"author = {_quoted(config.author)}\n"
        f"feed_size = {config.feed_size}\n"
        f"per_page = {config.per_page}\n"
    )


def write_skeleton(out: Path, flavour: str, config: SiteConfig = SITE) -> None:
    """Configuration (and for Hugo, layouts) around the article files."""
    (out / CONTENT_SUBDIR[flavour]).mkdir(parents=True, exist_ok=True)
    if flavour == "site_builder":
        (out / "site.toml").write_text(site_toml(config), encoding="utf-8")
    elif flavour == "hugo":
        (out / "hugo.toml").write_text(_fill("hugo.toml.tmpl", config), encoding="utf-8")
        shutil.copytree(PEERS_DIR / "hugo-layouts", out / "layouts", dirs_exist_ok=True)
    else:
        conf = _fill("pelicanconf.py.tmpl", config)
        (out / "pelicanconf.py").write_text(conf, encoding="utf-8")


def article_path(site: Path, flavour: str, slug: str) -> Path:
    """Where `flavour` keeps the article with this slug."""
    return site / CONTENT_SUBDIR[flavour] / f"{slug}.md"


def write_sites(sites: Mapping[str, Path], count: int, seed: int) -> int:
    """Write the same `count` articles into one site per flavour; return the count."""
    for flavour, out in sites.items():
        write_skeleton(out, flavour)
    written = 0
    for article in generate_articles(count, seed):
        for flavour, out in sites.items():
            text = RENDERERS[flavour](article)
            article_path(out, flavour, article.slug).write_text(text, encoding="utf-8")
        written += 1
    return written


# --- command line ---------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="how many")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--flavour", choices=FLAVOURS, default="site_builder")
    parser.add_argument("out_dir", type=Path, help="new or empty directory")
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error("--articles must be at least 1")
    if args.out_dir.exists() and any(args.out_dir.iterdir()):
        # Stale articles from an earlier, larger run would skew the figures.
        parser.error(f"{args.out_dir} is not empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Generate one site in one flavour."""
    args = _parse_args(argv)
    count = write_sites({args.flavour: args.out_dir}, args.articles, args.seed)
    print(f"wrote {count} {args.flavour} articles to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
