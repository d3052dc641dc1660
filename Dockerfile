FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SC_VAR_DIR=/app/var
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app
WORKDIR /app
# The lock file: exact versions with hashes (`make lock` regenerates it from pyproject.toml).
COPY requirements/prod.txt requirements/prod.txt
RUN pip install --upgrade "pip>=25.1" && pip install --require-hashes -r requirements/prod.txt
COPY . .
# collectstatic needs a key only to import settings; the real one comes from the environment
# (there is no key file in the image, so a container without DJANGO_SECRET_KEY refuses to serve).
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v0 \
    && rm -f /app/var/secret_key && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "sellercenter.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
