"""The web app: ``create_app(engine_url=None, ...)``."""
from .app import create_app

__all__ = ["create_app"]
