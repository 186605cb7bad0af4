"""The supervisors' NLU inbox: customer messages the bot handled poorly, and the intents supervisors give them."""
