"""Interviews arranged for a referral: the base proposes a time, place and contact; the office confirms."""
