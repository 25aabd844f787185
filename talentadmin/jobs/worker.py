"""The worker's entry point: ``celery -A talentadmin.jobs.worker:celery worker [--beat]``.

Builds the app from the environment (the same ``TALENTADMIN_*`` settings as the web server,
``TALENTADMIN_INSTANCE_PATH`` for another instance folder); ``TALENTADMIN_BROKER_URL`` must
name a broker."""

import os

from talentadmin import create_app

instance = os.environ.get("TALENTADMIN_INSTANCE_PATH")
flask_app = create_app({"INSTANCE_PATH": instance} if instance else None)
celery = flask_app.extensions.get("celery")
if celery is None:
    raise SystemExit("TALENTADMIN_BROKER_URL is empty: a worker needs a broker")
