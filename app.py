"""The web app: `python app.py` starts the same page as `rag serve` (settings from RAG_* variables:
RAG_HOST, RAG_PORT, RAG_USERNAME/RAG_PASSWORD, RAG_LLM, RAG_CORPUS, RAG_INDEX, ...)."""
import sys

from rag.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
