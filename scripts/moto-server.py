"""moto's server, handling one request at a time.

S3 applies a conditional PutObject (If-Match, If-None-Match) atomically: of two writes made
against the same version, one wins. moto checks the condition and then writes, without a lock,
so under load both can succeed: eight threads writing with the same If-Match, on a 2-core
machine kept busy, had two winners in 16 rounds of 800 (none behind this lock). The state
store's claim relies on S3's guarantee, so the stack serves moto's own application behind one
lock: each request is handled whole before the next, as S3 orders them. Every backend call
stays moto's; only the interleaving of requests is removed.

Usage: moto-server.py -H HOST -p PORT (run with moto's virtual environment's python).
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    moto = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # The whole response is produced inside the lock, not only its start.
            return list(moto(environ, start_response))

    run_simple(
        args.host,
        args.port,
        one_at_a_time,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
