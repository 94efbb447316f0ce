"""Finding the paragraphs a question is about: parsing the question, follow-ups, hybrid retrieval and fusion."""
