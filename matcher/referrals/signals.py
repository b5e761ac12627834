"""The referral's signals, in a module of their own: a listener (matcher.followup, matcher.notify,
matcher.bases.answers) connects to them without importing the referral service, which itself asks some of those
features before it moves a referral (a base's pause and monthly cap)."""

from __future__ import annotations

from blinker import Namespace

# Sent after every move of a referral, inside the mover's transaction: sender = the session; keyword arguments
# referral, frm, to, on_date, actor. Listeners add rows; they never commit.
referral_moved = Namespace().signal("referral-moved")
