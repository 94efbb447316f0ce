"""The web app: `python app.py` starts the same page as `rag serve` (settings from RAG_* variables:
RAG_HOST, RAG_PORT, RAG_USERNAME/RAG_PASSWORD, RAG_LLM, RAG_CORPUS, RAG_INDEX, ...).

The page is laid out in rag/ui.py and its handlers are in rag/webapp.py, inside the package, so an
installed `rag serve` finds them too; this file only starts it.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # never download a model from the web app
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main() -> int:
    from rag.errors import RagError
    from rag.settings import Settings
    from rag.webapp import serve
    try:
        serve(Settings.from_env())
    except RagError as e:
        print(f"rag: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
