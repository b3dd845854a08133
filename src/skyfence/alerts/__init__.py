"""Alert sinks: where events go (console, JSON Lines, webhooks)."""
