"""A release a stranger can install: the sdist and the wheel ``python -m build`` makes
pass ``twine check``; the wheel, installed (not editable) in a fresh virtualenv, runs
``init``, ``build``, ``check`` and ``serve`` with its own templates and its own
Pagefind; ``requirements.txt`` from ``init`` names a version that wheel satisfies; the
release workflow is valid and publishes with PyPI's trusted publishing.

Slow (a build, a virtualenv and an install): marked ``release``; ``.ci/run`` runs it.
"""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

import pytest
import yaml

from site_builder import __version__
from tests.conftest import REPO
from tests.test_publish import validate

pytestmark = pytest.mark.release
RELEASE = REPO / ".github/workflows/release.yml"
WAIT = 600


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, REPO)
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel installed from the file, and its
    dependencies from the package index; its ``bin`` folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=True)
    bin_dir = env / "bin"
    (wheel,) = dist.glob("*.whl")
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel)
    return bin_dir


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        f"site_builder-{__version__}-py3-none-any.whl",
        f"site_builder-{__version__}.tar.gz",
    ]
    done = run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()))
    assert done.stdout.count("PASSED") == 2


def test_the_sdist_holds_every_file_the_readme_links(dist: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {m.split("#")[0] for m in re.findall(r"\]\(([^)#:]+)", readme)}
    assert "docs/cli.md" in linked
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        held = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert sorted(linked - held) == []


def test_the_installed_wheel_is_not_this_checkout(installed: Path) -> None:
    script = "import site_builder; print(site_builder.__file__)"
    where = run(installed / "python", "-c", script, cwd=installed)  # not this checkout's folder
    assert "site-packages" in where.stdout and str(REPO) not in where.stdout
    assert run(installed / "site-builder", "--version").stdout.strip() == (
        f"site-builder {__version__}"
    )


def test_a_new_site_from_the_wheel_builds_checks_and_serves(
    installed: Path, dist: Path, tmp_path: Path
) -> None:
    builder = installed / "site-builder"
    site = tmp_path / "news"
    run(builder, "init", site, cwd=tmp_path)
    # The line init writes installs this release: pip takes it from the wheel alone.
    requirements = site / "requirements.txt"
    assert requirements.read_text(encoding="utf-8").splitlines()[0] == (
        f"site-builder=={__version__}"
    )
    pip = (installed / "python", "-m", "pip", "install", "--no-index", "--find-links", dist)
    assert "already satisfied" in run(*pip, "-r", requirements).stdout
    built = run(builder, "build", cwd=site)
    assert built.stdout.startswith("Built ")
    assert (site / "output/pagefind/pagefind-entry.json").is_file()
    assert 'href="/search/"' in (site / "output/index.html").read_text(encoding="utf-8")
    run(builder, "check", cwd=site)
    run(builder, "build", "--check", "--clean", "--format", "github", cwd=site)
    assert _serves(builder, site) == "Hello, world"


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _serves(builder: Path, site: Path) -> str:
    """Start ``serve`` as a user does, fetch the article, stop it with Ctrl-C."""
    process = subprocess.Popen(
        [builder, "serve", "--port", "0"],
        cwd=site,
        stdout=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal delivers it: a suite run in the background hands its
        # children SIGINT ignored, and the preview would never stop.
        preexec_fn=_interruptible,  # noqa: PLW1509 - no threads start before exec
    )
    with process:
        assert process.stdout is not None
        while "Serving" not in (line := process.stdout.readline()):
            assert line, "serve stopped before serving"
        port = int(re.findall(r":(\d+)/", line)[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/articles/hello-world/")
        page = conn.getresponse().read().decode("utf-8")
        conn.close()
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # else leaving the with block waits for it for ever
            raise
    assert process.returncode == 0
    return re.findall(r"<h1[^>]*>([^<]+)</h1>", page)[0].strip()


def test_the_release_workflow_publishes_tags_with_trusted_publishing() -> None:
    done = validate(RELEASE)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    assert workflow[True] == {"push": {"tags": ["v*"]}}  # YAML 1.1 reads "on" as true
    publish = workflow["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert "pypa/gh-action-pypi-publish@release/v1" in uses
    assert not any("password" in str(step.get("with", {})) for step in publish["steps"])
    assert workflow["permissions"] == {"contents": "read"}
    built = "\n".join(str(s.get("run", "")) for s in workflow["jobs"]["dist"]["steps"])
    assert "python -m build" in built and "twine check --strict" in built
