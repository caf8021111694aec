"""shopmind."""
