"""gunicorn settings for talentadmin: ``gunicorn -c gunicorn.conf.py app:app``.

Every value can be changed by an environment variable (named beside it) without editing
this file. The app itself reads its ``TALENTADMIN_*`` variables (README, "Production").

* Workers and threads from the core count: ``gthread`` workers, one per core, 4 threads
  each. Chosen by measurement (``bench.load``, 2 workers, PostgreSQL and Redis, 50
  enterprises and 5 reviewers for 45 s, twice each): gthread answered 1,499 and 1,655
  requests, the portal list's median 110 and 60 ms; sync 1,141 and 1,074, median 780 ms
  both times (two requests at a time, each waiting on the database). A thread waiting on
  PostgreSQL, Redis or a client's upload leaves the core to the others; PDFium runs behind
  its process-wide lock.
* Timeouts for the longest legitimate request: a licence read by OCR (2.5 to 4.5 s measured
  here, longer when several are read at once) or a 10 MB upload on a slow link.
  ``timeout`` is the worker heartbeat: a gthread worker's main loop beats while its threads
  serve, so it catches a stuck worker, not a long request; a sync worker is killed past it.
* Graceful restart: ``kill -HUP <master pid>`` starts new workers on the new code and lets
  the old ones finish their requests (``graceful_timeout``). ``max_requests`` is off (below).
* The access log has the path without its query string (a query can hold an ID number or a
  mobile) and the request id of the app's JSON request log.
* ``forwarded_allow_ips`` follows ``TALENTADMIN_TRUST_PROXY``: with no proxy in front no
  address may set ``X-Forwarded-*``; with one, only the proxy's addresses
  (``TALENTADMIN_PROXY_ADDRESSES``, default the loopback ones: a proxy on the same host).
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
cores = cores or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _int("GUNICORN_WORKERS", cores)
threads = _int("GUNICORN_THREADS", 4) if worker_class == "gthread" else 1

timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Off: a worker renewed by max_requests closes its idle keep-alive connections, and a client
# that sends on one at that moment gets "connection reset" (measured: 3 of 13,553 requests at
# 200 users, each worker renewed once). Nothing here leaks memory that would need it.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# The workers' heartbeat files (gunicorn's own mkstemp) in memory, not on a slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# The app's JSON lines go to stderr as well (talentadmin.core.logs).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# %(U)s is the path without its query string; no referrer (%(f)s: it has the previous query).
access_log_format = ('%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms pid=%(p)s '
                     '%({x-request-id}o)s')

trusted_hops = _int("TALENTADMIN_TRUST_PROXY", 0)
forwarded_allow_ips = (
    os.environ.get("TALENTADMIN_PROXY_ADDRESSES", "127.0.0.1,::1") if trusted_hops else ""
)

# gunicornc's control socket: off unless a path is given (two servers on one host would
# otherwise share ~/.gunicorn/gunicorn.ctl). Signals (HUP, TERM) work either way.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
