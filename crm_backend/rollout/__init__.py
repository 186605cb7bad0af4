"""Model roll-out: candidate trainings, the promotion gate, model versions and the model server Rasa pulls."""
