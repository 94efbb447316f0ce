"""`rag serve`: load everything once, then serve the Gradio page until interrupted."""
from __future__ import annotations

import logging
import socket

from rag.errors import ConfigError
from rag.progress import progress_printer
from rag.settings import Settings
from rag.web.handlers import WebApp
from rag.web.page import build_ui, launch


def serve(settings: Settings) -> None:
    """Load everything once, then serve the app on settings.host:settings.port until interrupted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("rag").addHandler(handler)           # engine fallbacks, index swaps: the operator sees them
    logging.getLogger("rag").setLevel(logging.INFO)
    _check_port(settings)      # before loading models for a minute: a busy port is known at once
    app = WebApp(settings)
    app.warm(progress=progress_printer("indexing the corpus"), engine_in_background=True)
    try:
        launch(build_ui(app), settings)
    except OSError as error:   # taken between the check and now, or the address cannot be bound
        raise ConfigError(_port_message(settings, error)) from None


def _check_port(settings: Settings) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as error:
        raise ConfigError(_port_message(settings, error)) from None


def _port_message(settings: Settings, error: OSError) -> str:
    return (f"Cannot serve on {settings.host}:{settings.port} ({error.strerror or error}): another server "
            f"may be using it; stop it, or set RAG_PORT (and RAG_HOST) to a free address.")
