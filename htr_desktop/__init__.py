"""htr-desktop: read handwriting offline (Qt desktop app and headless CLI)."""

__version__ = "0.1.0"
