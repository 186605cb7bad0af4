"""Agent console: login, pages, customer 360, canned replies."""
