"""Portal pages and the texts the office edits (policy basis, conditions, process)."""
