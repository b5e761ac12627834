"""Reference-data loading and the deterministic demo-city generator."""
