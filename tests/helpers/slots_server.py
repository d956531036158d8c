"""A model server whose capacity is known by construction, and one that leaks memory under load.

Every inference request takes one of ``--slots`` slots for ``--service-ms`` milliseconds (a
request that finds them all taken waits for one, first come first served), so the server
carries ``slots / service time`` requests a second and no more: ``--slots 4 --service-ms 40``
is 100 req/s. With ``--leak-kb K`` every answered request keeps K KiB for the life of the
process: its RSS grows in step with the load, as a leaking server's does.

Speaks V1 (``/v1/models/NAME:predict``) and V2 (``/v2/models/NAME/infer``) with iris-style
answers, and answers ready on both. Binds 127.0.0.1 only.
Run: ``python -m tests.helpers.slots_server --port 8080 --slots 4 --service-ms 40``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from tests.helpers.handlers import JsonHandler, QuietServer

KEPT: list[bytearray] = []  # what --leak-kb leaks


def make_handler(slots: int, service_s: float, leak_kb: int) -> type[JsonHandler]:
    gate = threading.BoundedSemaphore(slots)

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            self._send(200, {"name": "slots", "ready": True})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with gate:  # the service: one slot, a fixed time
                time.sleep(service_s)
            if leak_kb:
                KEPT.append(bytearray(b"x" * (leak_kb * 1024)))  # written, so the pages are resident
            if self.path.startswith("/v1/"):
                self._send(200, {"predictions": [1] * len(body.get("instances", []))})
            elif self.path.startswith("/v2/"):
                rows = int(body["inputs"][0]["shape"][0])
                self._send(200, {"model_name": "slots", "outputs": [
                    {"name": "predict", "shape": [rows], "datatype": "INT64", "data": [1] * rows}]})
            else:
                self._send(404, {"error": "no such path"})

    return Handler


class Server(QuietServer):
    request_queue_size = 512  # a step's connections all open at once (and its end drops them mid-answer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--service-ms", type=float, default=40.0)
    parser.add_argument("--leak-kb", type=int, default=0)
    args = parser.parse_args()
    Server(("127.0.0.1", args.port), make_handler(args.slots, args.service_ms / 1000, args.leak_kb)).serve()


if __name__ == "__main__":
    main()
