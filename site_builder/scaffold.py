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

REQUIREMENTS = f"site-builder=={__version__}\n"

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
      - name: Check links, anchors and feeds
        run: site-builder check --strict --format github
        env:
          SITE_BASE_URL: ${{{{ steps.pages.outputs.base_url }}}}
      - name: Build
        run: site-builder build --strict --clean
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
