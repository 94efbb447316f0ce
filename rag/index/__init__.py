"""The index: embedding paragraphs, writing versions (FAISS + BM25 + reports) and loading them."""
