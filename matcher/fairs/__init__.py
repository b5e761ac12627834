"""Job fairs: booths, invitations, the interview plan and the day itself."""
