"""Real recordings that packages on the package index ship, fetched by ``fetch.py``."""
