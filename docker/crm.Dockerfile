FROM python:3.11-slim
WORKDIR /app
COPY requirements/crm.lock requirements/crm.lock
RUN pip install --no-cache-dir --no-deps -r requirements/crm.lock
COPY crm_backend crm_backend
COPY kefu_ops kefu_ops
COPY data/text_analysis data/text_analysis
ENV PYTHONPATH=/app
# Migrations run before the server; the demo seed only applies to an empty database.
CMD ["sh", "-c", "python -m crm_backend.cli migrate && python -m crm_backend.cli seed && exec uvicorn crm_backend.main:app --host 0.0.0.0 --port 8000 --no-proxy-headers"]
