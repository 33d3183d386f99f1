"""Events: every change as a feed in commit order, and signed webhooks."""
