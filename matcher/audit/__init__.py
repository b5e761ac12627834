"""The append-only, hash-chained audit log of reads of sensitive fields and of every change."""
