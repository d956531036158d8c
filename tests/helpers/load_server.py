"""A tiny stand-in model server for the load tests: known latency, known failures, hostile modes.

Speaks the V1 (``/v1/models/NAME:predict``) and V2 (``/v2/models/NAME/infer``) paths, or
only one of them (``--protocols v2``: an MLServer-style V2-only server, which answers 404 on
V1), refuses a V2 tensor whose data do not fill its shape, answers after a fixed delay,
optionally fails every request with a given status, and counts requests carrying an
expected header (``GET /stats``), so tests can prove the endpoint's headers were sent.
Hostile modes, each for every POST:

* ``--redirect-to URL``: 307 to ``URL`` + the request's path (a login page, another host);
* ``--echo``: 400 whose body repeats the request's Cookie and Authorization, whole and cut,
  as a careless server's error text does;
* ``--drip S``: 200, then one body byte every ``S`` seconds, forever;
* ``--stream``: 200 with an endless chunked body, as fast as the client reads;
* ``--tls-cert PEM --tls-key PEM``: HTTPS;
* ``--hang-after S``: S seconds after the first inference request, every inference request
  hangs (a deadlock: readiness still answers), for at most :data:`HANG_S`;
* ``--answer JSON``: 200 with this body to every inference request (``{"error": "overloaded"}``).

Binds to 127.0.0.1 only. Run: ``python -m tests.helpers.load_server --port 8080 --delay-ms 20``.
"""

from __future__ import annotations

import argparse
import json
import math
import ssl
import threading
import time

from tests.helpers.handlers import JsonHandler, QuietServer

COUNTS = {"requests": 0, "with_header": 0, "host_ok": 0, "hits": 0}
LOCK = threading.Lock()
HANG_S = 60.0  # bounded: the test stops the process long before
FIRST: list[float] = []  # when the first inference request came


def make_handler(args: argparse.Namespace) -> type[JsonHandler]:
    header = tuple(args.expect_header.split(":", 1)) if args.expect_header else None
    protocols = set(args.protocols.split(","))
    delay_s = args.delay_ms / 1000

    class Handler(JsonHandler):
        def _count(self) -> None:
            with LOCK:
                COUNTS["hits"] += 1

        def do_GET(self) -> None:
            if self.path == "/stats":
                with LOCK:
                    self._send(200, dict(COUNTS))
                return
            self._count()
            self._send(200, {"name": "stub", "ready": True})

        def do_POST(self) -> None:
            self._count()
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with LOCK:
                COUNTS["requests"] += 1
                if header and self.headers.get(header[0]) == header[1]:
                    COUNTS["with_header"] += 1
                if args.expect_host and self.headers.get("Host") == args.expect_host:
                    COUNTS["host_ok"] += 1
                if not FIRST:
                    FIRST.append(time.monotonic())
                hang = args.hang_after is not None and time.monotonic() - FIRST[0] >= args.hang_after
            time.sleep(HANG_S if hang else delay_s)
            if args.answer is not None:
                self._send(200, args.answer)
            elif args.redirect_to:
                self._send(307, {"error": "moved"}, headers={"Location": args.redirect_to + self.path})
            elif args.echo:
                self._echo()
            elif args.drip or args.stream:
                self._endless()
            elif args.fail_status:
                self._send(args.fail_status, {"error": "stub failure"})
            elif self.path.startswith("/v1/") and "v1" in protocols:
                self._send(200, {"predictions": [1] * len(body.get("instances", []))})
            elif self.path.startswith("/v2/") and "v2" in protocols:
                self._v2(body)
            else:
                self._send(404, {"error": "no such path"})

        def _v2(self, body: dict[str, object]) -> None:
            # as MLServer 1.7.1 decodes a tensor (mlserver/codecs/numpy.py, decode_input): the
            # data, flat or nested, reshaped to the shape; data that do not fill it are refused
            tensor = body["inputs"][0]  # type: ignore[index]
            shape, data = tensor["shape"], tensor["data"]
            flat = [x for row in data for x in row] if any(isinstance(x, list) for x in data) else data
            if len(flat) != math.prod(shape):
                self._send(400, {"error": f"data do not fill shape {shape}"})
                return
            rows = shape[0]
            # MLServer-style outputs: several, the probabilities first, the labels nested
            self._send(200, {"model_name": "stub", "outputs": [
                {"name": "predict_proba", "shape": [rows, 3], "datatype": "FP64", "data": [0.1, 0.8, 0.1] * rows},
                {"name": "predict", "shape": [rows, 1], "datatype": "INT64", "data": [[1]] * rows},
            ]})

        def _echo(self) -> None:
            cookie = self.headers.get("Cookie", "")
            auth = self.headers.get("Authorization", "")
            text = ("x" * 150 + f" you sent Cookie: {cookie} and Authorization: {auth}; "
                    f"again, cut: {cookie[37:237]} | {auth[:25]} | {cookie[-60:]}")
            self._send(400, json.dumps({"error": text}))

        def _endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"[" + b"1," * 32767 + b"1"
            try:
                if args.drip:
                    self.wfile.write(b"1\r\n[\r\n")
                    while True:
                        time.sleep(args.drip)
                        self.wfile.write(b"1\r\n1\r\n")
                        self.wfile.flush()
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            except OSError:
                self.close_connection = True

    return Handler


class Server(QuietServer):
    """Quiet: refused TLS handshakes and dropped clients are what some tests cause."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--fail-status", type=int, default=0)
    parser.add_argument("--expect-header", default=None, help="NAME:VALUE to count")
    parser.add_argument("--expect-host", default=None)
    parser.add_argument("--protocols", default="v1,v2", help="what it speaks: v1,v2 | v1 | v2")
    parser.add_argument("--redirect-to", default=None, help="answer 307 to this URL + the path")
    parser.add_argument("--echo", action="store_true", help="400 echoing Cookie and Authorization")
    parser.add_argument("--drip", type=float, default=0.0, help="200, then a byte every DRIP seconds")
    parser.add_argument("--stream", action="store_true", help="200 with an endless chunked body")
    parser.add_argument("--tls-cert", default=None)
    parser.add_argument("--tls-key", default=None)
    parser.add_argument("--hang-after", type=float, default=None, help="inference hangs this many seconds after its first request")
    parser.add_argument("--answer", default=None, help="200 with this body to every inference request")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), make_handler(args))
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake happens in the handler's thread, on its first read
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.serve()


if __name__ == "__main__":
    main()
