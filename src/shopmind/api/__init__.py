"""The REST service and the dashboard: ``create_app()`` for the app, ``shopmind serve`` to run it."""

from shopmind.api.app import create_app

__all__ = ["create_app"]
