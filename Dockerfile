FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=production
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY accounts accounts
COPY tenants tenants
COPY mappings mappings
COPY connector connector
COPY sandbox sandbox
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build FIELD_ENCRYPTION_KEYS=ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE= ALLOWED_HOSTS=build \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost QBO_CLIENT_ID=build QBO_CLIENT_SECRET=build \
    python manage.py collectstatic --noinput
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
