"""Text handling shared by every stage: incoming text made safe, and words (tokens, stems, stop words)."""
