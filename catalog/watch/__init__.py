"""Telling people about changes: the notification targets and the outbox that delivers to them."""
