"""Static files of the /docs page (served by service.handlers.docs)."""
