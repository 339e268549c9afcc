FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install --no-cache-dir . && DEBUG=1 python manage.py collectstatic --noinput
RUN useradd --create-home salesinsight && mkdir -p /var/lib/salesinsight/private \
    && chown salesinsight /var/lib/salesinsight/private
USER salesinsight
EXPOSE 8000
CMD ["gunicorn", "salesinsight.wsgi", "--config", "gunicorn.conf.py"]
