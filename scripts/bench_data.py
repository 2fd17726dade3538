"""Runs the data benchmarks for scripts/bench-data.sh (see there). Every job runs under
/usr/bin/time -v (wall time, peak RSS); repetitions are interleaved across tools so that load
changes hit all of them alike. After the first repetition the outputs are checked: our cleanse
output must hold the same rows as polars' (fields compared as numbers where both parse), and our
profile must agree with polars' on rows, null fractions, min/max/mean/std."""
import argparse, json, math, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = {"100m": 945_000, "1g": 9_450_000}  # ~106 bytes per generated row


def timed(argv):
    p = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{argv}: {p.stderr[-3000:]}")
    h, m, s = ([0] + [float(x) for x in re.search(r"Elapsed \(wall clock\) time.*: (\S+)", p.stderr).group(1).split(":")])[-3:]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", p.stderr).group(1)) for k in ("User", "System"))
    return h * 3600 + m * 60 + s, rss, cpu


def num(x):
    try:
        v = float(x)
        return v if math.isfinite(v) else None
    except ValueError:
        return None


def same_rows(ours, theirs):
    """Row-by-row comparison; returns (rows_ours, rows_theirs, first_difference or None)."""
    n = 0
    with open(ours) as a, open(theirs) as b:
        for la, lb in zip(a, b):
            n += 1
            fa, fb = la.rstrip("\n").split(","), lb.rstrip("\n").split(",")
            if len(fa) != len(fb):
                return None, None, (n, la, lb)
            for x, y in zip(fa, fb):
                if x == y:
                    continue
                vx, vy = num(x), num(y)
                if vx is None or vy is None or abs(vx - vy) > 1e-9 * max(1.0, abs(vx), abs(vy)):
                    return None, None, (n, la, lb)
    ra = sum(1 for _ in open(ours))
    rb = sum(1 for _ in open(theirs))
    return ra, rb, None if ra == rb else (min(ra, rb) + 1, "", "")


def close(a, b, rel=1e-6):
    if a is None or b is None:
        return a == b
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def check_profile(ours, theirs):
    o, t = json.load(open(ours)), json.load(open(theirs))
    problems = []
    if o["rows"] != t["rows"] and o["profile"]["rows"] != t["rows"]:
        problems.append(f"rows {o['profile']['rows']} vs {t['rows']}")
    for c, tc in t["columns"].items():
        oc = o["profile"]["columns"].get(c)
        if oc is None:
            problems.append(f"{c}: missing")
            continue
        if not close(oc["null_fraction"], tc["null_frac"], 1e-3):
            problems.append(f"{c}: null_fraction {oc['null_fraction']} vs {tc['null_frac']}")
        for k in ("min", "max", "mean", "std"):
            if k in tc and isinstance(tc[k], float) and k in oc and not close(oc[k], tc[k]):
                problems.append(f"{c}: {k} {oc[k]} vs {tc[k]}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer"); ap.add_argument("--out"); ap.add_argument("--bin")
    ap.add_argument("--sizes"); ap.add_argument("--reps", type=int); ap.add_argument("--peers")
    ap.add_argument("--base-bin", default="", help="another build's cleanse-file/validate-file (tool stepwright-base), for A/B")
    a = ap.parse_args()
    py = sys.executable
    peers = a.peers.split()
    cleanse_cfg = os.path.join(ROOT, "crates/lambdas/cleanse/bench-configs/peer-cleanse.json")
    profile_suite = os.path.join(ROOT, "crates/lambdas/validate/bench-profile.json")
    results = open(os.path.join(a.out, "results-" + "-".join(a.sizes.split()) + ".jsonl"), "w")
    recs = []
    for size in a.sizes.split():
        data = os.path.join(a.out, f"d{size}.csv")
        if not os.path.exists(data):
            print(f"[bench] generating {data}", file=sys.stderr)
            subprocess.run([py, os.path.join(a.peer, "gen_data.py"), str(ROWS[size]), data], check=True)
        nbytes = os.path.getsize(data)
        subprocess.run(f"cat {data} > /dev/null", shell=True)
        for rep in range(a.reps):
            for job in ("cleanse", "profile"):
                for tool in ["stepwright", *(["stepwright-base"] if a.base_bin else []), *peers]:
                    ext = "csv" if job == "cleanse" else "json"
                    outp = os.path.join(a.out, f"{size}.{job}.{tool}.{ext}")
                    if tool.startswith("stepwright"):
                        bindir = a.bin if tool == "stepwright" else a.base_bin
                        argv = ([os.path.join(bindir, "cleanse-file"), cleanse_cfg, data, outp, outp + ".rejects.jsonl"]
                                if job == "cleanse" else [os.path.join(bindir, "validate-file"), profile_suite, data, outp])
                        if not os.path.exists(argv[0]):
                            continue
                    else:
                        argv = [py, os.path.join(a.peer, "bench_data.py"), job, tool, data, outp]
                    # every tool starts without its previous outputs: truncating last repetition's
                    # 100 MB file costs 1-120 ms at open, and should not count for anyone
                    for f in (outp, outp + ".rejects.jsonl"):
                        if os.path.exists(f):
                            os.remove(f)
                    wall, rss, cpu = timed(argv)
                    rec = {"data": size, "bytes": nbytes, "job": job, "tool": tool, "rep": rep, "wall_s": round(wall, 2),
                           "mb_per_s": round(nbytes / 1e6 / wall, 1), "cpu_s": round(cpu, 2),
                           "mb_per_cpu_s": round(nbytes / 1e6 / max(cpu, 1e-3), 1), "peak_rss_mb": round(rss / 1024, 1),
                           "loadavg1": round(os.getloadavg()[0], 2)}
                    print(json.dumps(rec), file=results, flush=True)
                    print(json.dumps(rec), file=sys.stderr, flush=True)
                    recs.append(rec)
            if rep == 0 and "polars-lazy" in peers:
                ra, rb, diff = same_rows(os.path.join(a.out, f"{size}.cleanse.stepwright.csv"),
                                         os.path.join(a.out, f"{size}.cleanse.polars-lazy.csv"))
                msg = f"cleanse output vs polars-lazy: {ra} vs {rb} rows, " + ("identical rows" if diff is None else f"DIFFER at row {diff[0]}: {diff[1]!r} vs {diff[2]!r}")
                probs = check_profile(os.path.join(a.out, f"{size}.profile.stepwright.json"),
                                      os.path.join(a.out, f"{size}.profile.polars-lazy.json"))
                msg2 = "profile vs polars-lazy: " + ("agrees (rows, null fractions, min/max/mean/std)" if not probs else "; ".join(probs[:6]))
                print(f"[verify {size}] {msg}\n[verify {size}] {msg2}", file=sys.stderr)
                print(json.dumps({"data": size, "verify_cleanse": msg, "verify_profile": msg2}), file=results, flush=True)
    # summary
    print("| data | job | tool | MB/s wall (median) | MB per CPU-second (median) | peak RSS MB (max) | wall-clock ratio |")
    print("|---|---|---|---|---|---|---|")
    keys = sorted({(r["data"], r["job"], r["tool"]) for r in recs}, key=lambda k: (k[0], k[1], k[2] != "stepwright", k[2]))
    med = {k: statistics.median(r["mb_per_s"] for r in recs if (r["data"], r["job"], r["tool"]) == k) for k in keys}
    for k in keys:
        rs = [r for r in recs if (r["data"], r["job"], r["tool"]) == k]
        rss = max(r["peak_rss_mb"] for r in rs)
        cpu = statistics.median(r["mb_per_cpu_s"] for r in rs)
        ours = med.get((k[0], k[1], "stepwright"))
        ratio = "" if k[2] == "stepwright" or not ours else f"stepwright {ours / med[k]:.2f}x"
        print(f"| {k[0]} | {k[1]} | {k[2]} | {med[k]:.1f} | {cpu:.1f} | {rss:.0f} | {ratio} |")
    print(f"\nload average during the run: {min(r['loadavg1'] for r in recs):.1f}-{max(r['loadavg1'] for r in recs):.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
