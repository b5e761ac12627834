"""Job and training slots that bases post, and the seats they hold."""
