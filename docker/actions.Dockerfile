FROM rasa/rasa-sdk:3.6.2
WORKDIR /app
USER root
# The actions need PyJWT (customer tokens), redis (outbox when REDIS_URL is set) and prometheus-client
# (/metrics through rasa_sdk_plugins). Same pins as requirements/bot.lock.
RUN pip install --no-cache-dir "PyJWT==2.15.1" "redis==4.6.0" "prometheus_client==0.26.0"
COPY actions /app/actions
# rasa-sdk's plugin hook (metrics, JSON logs) and the shared ops helpers, which redact log lines with the
# CRM's stdlib-only PII rules.
COPY rasa_sdk_plugins /app/rasa_sdk_plugins
COPY kefu_ops /app/kefu_ops
COPY crm_backend/__init__.py /app/crm_backend/__init__.py
COPY crm_backend/text/__init__.py crm_backend/text/language.py crm_backend/text/pii.py /app/crm_backend/text/
ENV PYTHONPATH=/app
# Longer than the keep-alive of Rasa's client (aiohttp, 15 s): a reused connection is never one just closed.
ENV SANIC_KEEP_ALIVE_TIMEOUT=75
USER 1001
CMD ["start", "--actions", "actions", "--port", "5055"]
