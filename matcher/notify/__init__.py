"""In-app notifications for every role, and the outbound channel (email over SMTP) behind one interface."""
