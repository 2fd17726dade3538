#!/usr/bin/env python3
"""Cold start of the cleanse and validate bootstraps vs Python handlers doing the same work.

A minimal Lambda Runtime API on 127.0.0.1 hands one event to a freshly started process and waits
for its response; the time from process start to that response is the cold start (init + first
invocation). The event cleanses (or validates) a small local CSV, so no AWS call is made.

  scripts/coldstart_data.py --runs 20 TARGET_DIR/release

Prints a Markdown table: median / p90 / min milliseconds and peak RSS per handler.
"""
import json, os, statistics, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "/2018-06-01/runtime"


def serve(event: bytes):
    state = {"served": False, "response": None, "done": threading.Event()}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == PREFIX + "/invocation/next" and not state["served"]:
                state["served"] = True
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(event)))
                self.end_headers()
                self.wfile.write(event)
            else:  # park later polls until the process is killed
                state["done"].wait(30)
                self.send_response(500)
                self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            state["response"] = (self.path, self.rfile.read(n))
            self.send_response(202)
            self.end_headers()
            state["t_end"] = time.perf_counter()
            state["done"].set()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, state


def peak_rss(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cold(argv, event, runs):
    times, rss, resp = [], 0, None
    for _ in range(runs):
        srv, st = serve(json.dumps(event).encode())
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.server_port}", AWS_LAMBDA_FUNCTION_NAME="f",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512", AWS_LAMBDA_FUNCTION_VERSION="1", AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not st["done"].wait(0.0005):
            rss = max(rss, peak_rss(p.pid))
            if p.poll() is not None:
                raise RuntimeError(f"{argv} exited with {p.returncode} before responding")
        times.append((st["t_end"] - t0) * 1000)
        rss = max(rss, peak_rss(p.pid))
        p.kill(); p.wait(); srv.shutdown(); srv.server_close()
        resp = st["response"]
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
            "min_ms": round(times[0], 1), "peak_rss_mb": round(rss / 1024, 1), "response": resp}


def main():
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
    bindir = sys.argv[-1]
    tmp = tempfile.mkdtemp()
    data = os.path.join(tmp, "in.csv")
    with open(data, "w") as f:
        f.write("x,label\n")
        for i in range(200):
            f.write(f"{'NA' if i % 10 == 0 else i * 0.5},{i % 2}\n")
    config = {"rules": [{"rule": "trim"}, {"rule": "null_markers"}, {"rule": "required", "columns": ["label"]},
                        {"rule": "coerce", "columns": {"x": "float", "label": "int"}},
                        {"rule": "impute", "columns": ["x"], "strategy": "mean"}]}
    cev = {"input": data, "output": os.path.join(tmp, "out.csv"), "config": config}
    vev = {"input": data, "suite": {"expectations": [{"expect": "not_null", "column": "x", "mostly": 0.8},
                                                     {"expect": "row_count", "min": 100}]}}
    py = sys.executable
    rows = [
        ("cleanse (Rust bootstrap)", [os.path.join(bindir, "cleanse")], cev),
        ("cleanse (Python handler)", [py, os.path.join(HERE, "coldstart-data", "handlers.py"), "cleanse"], cev),
        ("validate (Rust bootstrap)", [os.path.join(bindir, "validate")], vev),
        ("validate (Python handler)", [py, os.path.join(HERE, "coldstart-data", "handlers.py"), "validate"], vev),
    ]
    print(f"| handler | cold start median ms | p90 ms | min ms | peak RSS MB |  ({runs} runs each, load {os.getloadavg()[0]:.1f})")
    print("|---|---|---|---|---|")
    for name, argv, ev in rows:
        if not os.path.exists(argv[0]):
            print(f"| {name} | not built ({argv[0]}: `cargo build --release -p cleanse -p validate --bins`) | | | |")
            continue
        r = cold(argv, ev, runs)
        ok = r["response"] and r["response"][0].endswith("/response")
        print(f"| {name} | {r['median_ms']} | {r['p90_ms']} | {r['min_ms']} | {r['peak_rss_mb']} |" + ("" if ok else f" ERROR {r['response']}"))


if __name__ == "__main__":
    main()
