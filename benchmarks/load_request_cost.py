"""What one request costs the load generator: the locustfile's Sender against FastHttpUser's client.

The harness's locustfile sends each request itself (``Sender.post``: a total deadline, a
bounded body read, no redirect, a JSON check of the answer) instead of through
FastHttpUser's ``FastHttpSession.request``. This measures the generator's CPU time per
request of each, in one gevent process (the locustfile imported as locust would), against a
small threaded HTTP server in another process, so the server's time is not counted. Both
report to a no-op ``request`` event: the recording (~12 µs, ``docs/load.md``) is the same
for both and not part of this figure.

Run: ``python benchmarks/load_request_cost.py [--requests 3000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

from harness import procs
from harness.load.plan import LOCUSTFILE

SERVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    BODY = b'{"predictions": [1]}'
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        def log_message(self, *a): pass
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
    """
)

CLIENT = textwrap.dedent(
    """
    import importlib.util, json, statistics, sys, time
    spec = importlib.util.spec_from_file_location("mlh_locustfile", sys.argv[1])
    lf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lf)  # imports locust: gevent-patched from here on
    from locust.contrib.fasthttp import FastHttpSession
    from locust.event import EventHook
    base, count, repeat = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    body = b'{"instances": [[6.8, 2.8, 4.8, 1.4]]}'
    headers = {"Content-Type": "application/json", "Authorization": "Bearer benchmark-token-123456"}
    sender = lf.Sender(base, headers, lambda **_: None)
    event = EventHook()
    session = FastHttpSession(base, request_event=event, user=None, max_retries=0, max_redirects=0)

    def harness():
        sender.post("v1", "/v1/models/m:predict", body, {})

    def fasthttpuser():
        session.request("POST", "/v1/models/m:predict", name="v1", data=body, headers=headers)

    result = {}
    for name, call in (("harness Sender.post", harness), ("FastHttpSession.request", fasthttpuser)) * repeat:
        for _ in range(200):
            call()  # connections open, caches warm
        began = time.process_time()
        for _ in range(count):
            call()
        result.setdefault(name, []).append((time.process_time() - began) / count * 1e6)
    print(json.dumps({k: statistics.median(v) for k, v in result.items()} | {"rounds": result}))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="Requests per round. Default: %(default)s")
    parser.add_argument("--repeat", type=int, default=5, help="Interleaved rounds of each. Default: %(default)s")
    args = parser.parse_args()
    port = procs.free_port()
    server = procs.spawn([sys.executable, "-c", SERVER, str(port)])
    try:
        procs.wait_exit(server, 0.5)
        env = {**os.environ, "MLH_LOAD_PLAN": json.dumps({"request_timeout_s": 10.0}), "MLH_LOAD_OUT": "/tmp"}
        out = subprocess.run([sys.executable, "-c", CLIENT, str(LOCUSTFILE), f"http://127.0.0.1:{port}", str(args.requests), str(args.repeat)],
                             capture_output=True, text=True, env=env, timeout=600, check=True)
    finally:
        procs.stop(server)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    rounds = figures.pop("rounds")
    print(f"generator CPU per request (median of {args.repeat} rounds of {args.requests}, recording excluded):")
    for name, value in figures.items():
        print(f"  {name:26s} {value:6.1f} µs   rounds: {', '.join(f'{v:.1f}' for v in rounds[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
