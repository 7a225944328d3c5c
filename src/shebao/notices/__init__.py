"""Notices to people, employers and staff: the outbox written in the same transaction as the
event that causes a notice (``outbox.enqueue``); delivery happens later, elsewhere, at least
once and deduplicated by the notice id."""
