"""Mail sources (Gmail, local folder) and the parser they share."""
