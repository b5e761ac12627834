"""Referrals of a candidate to a slot, followed from proposal to staying in work."""
