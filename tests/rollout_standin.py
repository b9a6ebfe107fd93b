"""A stand-in for ``swift rollout`` (vLLM cannot run on CPU) that speaks its HTTP endpoints,
running beside a command: ``/health/`` answers 200, ``/infer/`` answers one completion per
request, and every ``/infer/`` call's batch is recorded.

    python tests/rollout_standin.py PORT RECORD.json -- COMMAND ...
    python tests/rollout_standin.py fd:N RECORD.json -- COMMAND ...

Runs COMMAND with the server listening on 127.0.0.1:PORT (or on the listening socket it
inherited as file descriptor N, bound by its caller: no race for the port), writes the
recorded batches to RECORD.json and exits with COMMAND's status. Run under ``unshare -n`` (after ``ip link set lo
up``), the command and the server share a loopback that reaches nothing else.
"""
import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMPLETION = "the cat sat"


class Server(ThreadingHTTPServer):
    def __init__(self, where: str):
        inherited = where.startswith("fd:")
        super().__init__(("127.0.0.1", 0 if inherited else int(where)), Handler, bind_and_activate=not inherited)
        if inherited:
            self.socket.close()
            self.socket = socket.socket(fileno=int(where[3:]))
        self.batches = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health/" else 404)
        self.end_headers()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.batches.append(body["infer_requests"])
        payload = json.dumps([{"text": COMPLETION} for _ in body["infer_requests"]]).encode()
        self.send_response(200 if self.path == "/infer/" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def main() -> int:
    where, record, separator, *command = sys.argv[1:]
    assert separator == "--", __doc__
    server = Server(where)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return subprocess.run(command).returncode
    finally:
        server.shutdown()
        with open(record, "w", encoding="utf-8") as handle:
            json.dump(server.batches, handle)


if __name__ == "__main__":
    sys.exit(main())
