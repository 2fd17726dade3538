#!/usr/bin/env python3
"""Cold start of a Lambda bootstrap under a minimal Lambda Runtime API.

Serves the Runtime API (next invocation, response, error) on 127.0.0.1, starts the bootstrap
as a fresh process for each run, hands it one event and measures process start -> first response
(the time a cold invocation adds before its result, init included). Peak RSS of the process is
read from /proc while it runs (its last VmHWM).

  scripts/coldstart.py --runs 20 --event EVENT.json [--env K=V ...] -- BOOTSTRAP [ARGS...]

Prints one JSON line: {"bootstrap", "runs", "median_ms", "p90_ms", "min_ms", "max_ms",
"peak_rss_kb", "response"} (the response of the last run, for checking it did the work).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Runtime:
    def __init__(self, event: bytes):
        self.event = event
        self.lock = threading.Condition()
        self.request_id = None
        self.served = False
        self.result = None  # (kind, body, time)
        self.gen = 0

    def reset(self):
        with self.lock:
            self.gen += 1
            self.lock.notify_all()
            self.request_id = str(uuid.uuid4())
            self.served = False
            self.result = None


def make_handler(rt: Runtime):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _reply(self, code, body=b"", headers=None):
            try:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the process was killed at the end of its run

        def do_GET(self):
            if self.path != PREFIX + "/invocation/next":
                return self._reply(404)
            with rt.lock:
                gen = rt.gen
                while rt.served and rt.gen == gen:  # one event per run: later polls wait
                    rt.lock.wait(timeout=1.0)
                if rt.gen != gen:  # a poll left over from a killed process
                    return self._reply(410)
                rt.served = True
                rid = rt.request_id
            self._reply(200, rt.event, {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": rid,
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:coldstart",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            })

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            now = time.perf_counter()
            kind = "response" if self.path.endswith("/response") else "error"
            with rt.lock:
                if rt.result is None:
                    rt.result = (kind, body, now)
                rt.lock.notify_all()
            self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

    return Handler


class QuietServer(ThreadingHTTPServer):
    """Connections reset by a killed process are expected: no traceback for them."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def peak_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--event", required=True)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = [c for c in args.cmd if c != "--"] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        ap.error("give the bootstrap command after --")
    with open(args.event, "rb") as f:
        event = f.read()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": "coldstart",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1")),
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "RUST_LOG": env.get("RUST_LOG", "warn"),
    })
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    times, rss, last = [], [], None
    for _ in range(args.runs):
        # A fresh Runtime API server per run: a process killed after its response may have a
        # poll for the next event in flight, and on a shared server that poll could be handed
        # the next run's event (the next process then waited forever for one).
        rt = Runtime(event)
        rt.reset()
        server = QuietServer(("127.0.0.1", 0), make_handler(rt))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        hwm = None
        deadline = start + args.timeout
        with rt.lock:
            while rt.result is None and time.perf_counter() < deadline and proc.poll() is None:
                rt.lock.wait(timeout=0.002)
                hwm = peak_rss_kb(proc.pid) or hwm
            result = rt.result
        hwm = peak_rss_kb(proc.pid) or hwm
        proc.kill()
        _, err = proc.communicate()
        rt.reset()  # releases this run's parked polls
        server.shutdown()
        server.server_close()
        if result is None:
            sys.exit(f"no response from {cmd[0]} (exit {proc.returncode}): {err.decode(errors='replace')[-2000:]}")
        times.append((result[2] - start) * 1000.0)
        if hwm:
            rss.append(hwm)
        last = result
    times.sort()
    print(json.dumps({
        "bootstrap": " ".join(cmd),
        "runs": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 2),
        "min_ms": round(times[0], 2),
        "max_ms": round(times[-1], 2),
        "peak_rss_kb": max(rss) if rss else None,
        "result": last[0],
        "response": last[1].decode(errors="replace")[:300],
    }))


if __name__ == "__main__":
    main()
