FROM rasa/rasa-sdk:3.6.2
WORKDIR /app
USER root
# The actions need PyJWT (customer tokens) and redis (outbox when REDIS_URL is set).
RUN pip install --no-cache-dir "PyJWT==2.15.1" "redis==4.6.0"
COPY actions /app/actions
ENV PYTHONPATH=/app
USER 1001
CMD ["start", "--actions", "actions", "--port", "5055"]
