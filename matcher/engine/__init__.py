"""Pure matching engine: plain dataclasses and arrays in, plain results out (no web or ORM imports)."""
