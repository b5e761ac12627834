"""Candidates: the one-person-one-file (一人一档) of each assistance subject."""
