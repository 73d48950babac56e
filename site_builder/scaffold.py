"""Scaffold: the files ``site-builder init`` writes around a new site.

The publishing workflow lives here as one template so that this repository's own
workflow and every new site's are the same text (a test keeps them equal).
"""

from __future__ import annotations

from site_builder import __version__

SAMPLE_CONFIG = """\
title = "{title}"
description = "Tech news, every day, and a weekly digest."
base_url = "https://news.example.org/"
language = "en"
timezone = "UTC"
author = "The Editors"
feed_size = 20
per_page = 10
"""

GITIGNORE = "/output/\n/.site-builder/\n"

# The release that made the site, from PyPI. Before a release, a commit is pinned
# instead (docs/publishing.md, "Pinning site-builder"); pip reads the other lines as comments.
REQUIREMENTS = f"""\
site-builder=={__version__}
# To build with a commit of site-builder that is not on PyPI yet, replace the line
# above with:  site-builder @ git+https://github.com/OWNER/REPOSITORY@COMMIT
"""


_WORKFLOW = """\
# Builds the site and publishes it with GitHub Pages (Settings > Pages > Source:
# GitHub Actions). Runs on every push to main, by hand, and every hour so that
# articles dated in the future go live without a push.
name: Publish

on:
  push:
    branches: [main]
  schedule:
    - cron: "23 * * * *"
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install site-builder
        run: {install}
      # Saved under a new key each run and restored from the latest: the cache checks
      # every entry against the content hash, so a stale one is never used.
      - name: Keep the render cache between runs
        uses: actions/cache@v4
        with:
          path: .site-builder
          key: site-builder-${{{{ github.run_id }}}}
          restore-keys: site-builder-
      - name: Configure Pages
        id: pages
        uses: actions/configure-pages@v5
      # One pass: the links, anchors, images and feeds of what it builds are checked
      # (problems appear as annotations on the pull request's lines; any fails the
      # run before it deploys), and the site is indexed for /search/.
      - name: Build and check
        run: site-builder build --check --strict --clean --format github
        env:
          SITE_BASE_URL: ${{{{ steps.pages.outputs.base_url }}}}
      - name: Upload the site
        uses: actions/upload-pages-artifact@v3
        with:
          path: output

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - name: Deploy to GitHub Pages
        id: deployment
        uses: actions/deploy-pages@v4
"""

SITE_INSTALL = "python -m pip install -r requirements.txt"
REPOSITORY_INSTALL = "python -m pip install ."


def publish_workflow(install: str = SITE_INSTALL) -> str:
    """The GitHub Actions workflow that checks, builds and deploys a site."""
    return _WORKFLOW.format(install=install)


_INGEST_WORKFLOW = """\
# Reads the feeds listed as [[sources]] in site.toml every four hours and opens a pull
# request with the new drafts in content/inbox/ and the updated inbox.json, for an
# editor to publish or discard (site-builder publish | discard). Optional: a site
# without sources gets no pull requests; delete this file to turn it off.
name: Ingest

on:
  schedule:
    - cron: "41 */4 * * *"
  workflow_dispatch:

permissions:
  contents: write
  pull-requests: write

concurrency:
  group: ingest
  cancel-in-progress: false

jobs:
  ingest:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install site-builder
        run: {install}
      # A source that fails is reported (exit 1); the others' drafts are still proposed.
      - name: Fetch the sources
        continue-on-error: true
        run: site-builder ingest
      - name: Open a pull request with the new drafts
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          BRANCH: ingest/${{{{ github.run_id }}}}
        run: |
          for path in content/inbox inbox.json; do
            if [ -e "$path" ]; then git add -- "$path"; fi
          done
          # Only new drafts make a pull request; a record that changed alone waits.
          if git diff --cached --quiet -- content/inbox; then
            echo "No new drafts."
            exit 0
          fi
          git config user.name "github-actions[bot]"
          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
          git switch -c "$BRANCH"
          git commit -m "Inbox: new drafts from the sources"
          git push origin "$BRANCH"
          gh pr create --head "$BRANCH" --title "Inbox: new drafts, $(date -u +%Y-%m-%d)" \\
            --body "New candidates from site-builder ingest. Publish or discard each one."
"""


def ingest_workflow(install: str = SITE_INSTALL) -> str:
    """The optional GitHub Actions workflow that ingests the sources on a schedule."""
    return _INGEST_WORKFLOW.format(install=install)
