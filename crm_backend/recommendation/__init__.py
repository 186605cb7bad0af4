"""Personal product recommendations from purchase co-occurrence (item to item) and the customer's tier."""
