"""Question answering over children's-services inspection reports, every claim cited to its paragraph.

    from rag import Assistant, ask
    answer = ask("What grade did Wandsworth get for adoption?")
    print(answer.text, [c.paragraph.id for c in answer.citations])
"""
from rag.records import NOT_IN_REPORTS, Answer, Citation, Hit, Judgement, Paragraph, Report
from rag.settings import apply_offline_defaults

apply_offline_defaults()

__all__ = ["Assistant", "ask", "NOT_IN_REPORTS", "Answer", "Citation", "Hit", "Judgement", "Paragraph", "Report"]


def __getattr__(name: str):
    # Imported lazily: `import rag` must stay cheap (no models, no LangChain) for the CLI's quick commands.
    if name in ("Assistant", "ask"):
        from rag import assistant
        return getattr(assistant, name)
    raise AttributeError(name)
