"""Reading reports: files -> source lines -> cleaned, classified lines -> citable paragraphs -> Reports."""
