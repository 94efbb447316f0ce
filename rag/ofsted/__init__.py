"""What the product knows of the domain: local authorities, Ofsted frameworks, graded judgements, report metadata."""
