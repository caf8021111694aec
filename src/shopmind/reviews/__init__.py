"""Review intelligence: sentiment, aspect-level customer needs and per-product insight."""
