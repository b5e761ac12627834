"""Import and export of candidates, bases, slots and referral history as CSV (UTF-8 or GBK) and Excel."""
