"""Standard Webhooks: signing, the inbound receiver and its inbox, the outbound notifier."""
