"""Answering from retrieved paragraphs: the plan, the engines, the LangChain chain, and citation checks."""
