"""site_builder: a static site generator for tech-news digests."""

__version__ = "0.1.0"
