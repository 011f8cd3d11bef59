"""Serve a real Ralph LRS (``fs`` backend) for the tests. Run by ``.venv-ralph/bin/python``.

Ralph's ``fs`` backend keeps every statement in one file, and its default operation type
(CREATE) refuses to write that file once it exists: the second POST fails with a 500. An LRS
must append, so this sets ``FSDataBackend.default_operation_type`` to APPEND, then serves
``ralph.api.app`` with uvicorn. Ralph reads the rest of its settings (``RALPH_*``) from the
environment; see tests/lrs/conftest.py.

    ralph_server.py --fd N              serve on a listening socket inherited from the parent
    ralph_server.py [--host H] [--port P]   or bind one (default 127.0.0.1:8100)
    --exit-with-parent                  stop when the parent dies (a killed pytest worker)
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend


def exit_with_parent(server: uvicorn.Server) -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--fd", type=int, help="an inherited socket, already listening")
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()

    FSDataBackend.default_operation_type = BaseOperationType.APPEND
    config = uvicorn.Config(
        "ralph.api:app", host=args.host, port=args.port, access_log=False, log_level="info"
    )
    server = uvicorn.Server(config)
    if args.exit_with_parent:
        threading.Thread(target=exit_with_parent, args=(server,), daemon=True).start()
    # A socket bound by the parent (port 0) leaves no window for another process to take it.
    server.run(sockets=None if args.fd is None else [socket.socket(fileno=args.fd)])


if __name__ == "__main__":
    main()
