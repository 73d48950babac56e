"""What theme authors get besides Jinja's own: the fragment cache and the theme's filters."""

from __future__ import annotations

from datetime import UTC, date, datetime

from site_builder.config import load_config
from site_builder.templates import FragmentCache, make_environment
from tests.conftest import MakeSite

# Each render of the body appends to `renders` and shows how many there have been.
COUNTED = (
    "{% for item in items %}{% cache item, 2 %}{{ item.name }}"
    "{{ renders.append(1) or renders|length }}{% endcache %} {% endfor %}"
)


def test_a_cached_fragment_is_rendered_once_per_key_object(make_site: MakeSite) -> None:
    env = make_environment(load_config(make_site({})))
    first, equal, other = {"name": "a"}, {"name": "a"}, {"name": "b"}
    template = env.from_string(COUNTED)
    items = [first, first, other, equal, first]
    assert template.render(items=items, renders=[]) == "a1 a1 b2 a3 a1 "


def test_the_fragment_cache_lasts_one_environment(make_site: MakeSite) -> None:
    config = load_config(make_site({}))
    item = {"name": "a"}
    for _ in range(2):  # each build makes its own environment
        env = make_environment(config)
        shown = env.from_string(COUNTED).render(items=[item, item], renders=[])
        assert shown == "a1 a1 "


def test_time_tag_shows_the_site_time_zone_in_whole_seconds(make_site: MakeSite) -> None:
    env = make_environment(load_config(make_site({})))  # Europe/Berlin
    moment = datetime(2026, 11, 2, 23, 30, 5, 123456, tzinfo=UTC)
    shown = env.from_string("{{ when|time_tag }} {{ day|time_tag('%d/%m') }}").render(
        when=moment, day=date(2026, 11, 2)
    )
    assert shown == (
        '<time datetime="2026-11-03T00:30:05+01:00">3 November 2026</time> '
        '<time datetime="2026-11-02">02/11</time>'
    )


def test_the_oldest_fragment_makes_way_when_the_cache_is_full(make_site: MakeSite) -> None:
    env = make_environment(load_config(make_site({})))
    env.extensions[FragmentCache.identifier].FRAGMENTS = 2  # type: ignore[attr-defined]
    a, b, c = {"name": "a"}, {"name": "b"}, {"name": "c"}
    shown = env.from_string(COUNTED).render(items=[a, b, a, c, b, a], renders=[])
    assert shown == "a1 b2 a1 c3 b2 a4 "  # c pushed a out; b stayed
