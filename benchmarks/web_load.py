"""Load on ``refuge serve``: many clients at once on loopback, each submitting runs and following them.

Every request must get an answer: a job (202), or a clear "busy" (429) when the
server holds as many jobs as its operator allows. Each client names its runs
uniquely and checks that the result it reads back is its own (nothing mixed or
lost). The server's memory (its process and its jobs' processes) is sampled
throughout.

    python benchmarks/web_load.py --clients 20 --seconds 30 --members 5

starts its own server (``--max-runs 2 --max-queue 4``) on a free port and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import psutil


def scenario(name: str) -> str:
    """A small scenario of its own for each run: the name is how a client knows its result."""
    return (f"name: {name}\nbase: border-crackdown\n"
            "levers:\n  - lever: china_enforcement\n    from: 2030\n    scale: 1.5\n")


def client(base: str, index: int, deadline: float, members: int, stats: dict, lock: threading.Lock) -> None:
    """Submit runs until ``deadline``; follow each accepted one to its end and check it is this client's."""
    with httpx.Client(base_url=base, timeout=60) as http:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            name = f"client-{index}-run-{n}"
            started = time.monotonic()
            answer = http.post("/api/runs", json={"yaml": scenario(name), "members": members, "backend": "mean"})
            with lock:
                stats["latency"].append(time.monotonic() - started)
                stats["requests"] += 1
            if answer.status_code == 429:
                with lock:
                    stats["busy"] += 1
                    stats["busy_clear"] += "busy" in answer.json()["error"]
                time.sleep(0.5)
                continue
            if answer.status_code != 202:
                with lock:
                    stats["other"].append((answer.status_code, answer.text[:200]))
                continue
            job = answer.json()["id"]
            with lock:
                stats["accepted"] += 1
            while True:
                time.sleep(0.3)
                status = http.get(f"/api/jobs/{job}")
                with lock:
                    stats["requests"] += 1
                shown = status.json()
                if shown["state"] in ("done", "failed"):
                    break
            with lock:
                if shown["state"] == "done" and shown["result"]["scenario"] == name:
                    stats["done_own"] += 1
                else:
                    stats["wrong_or_failed"].append((name, shown["state"], shown.get("error")))


def load(base: str, clients: int, seconds: float, members: int, server_pid: int) -> dict:
    """Run ``clients`` threads for ``seconds`` (then let accepted runs finish); return what happened."""
    stats = {"requests": 0, "accepted": 0, "busy": 0, "busy_clear": 0, "done_own": 0, "latency": [], "other": [],
             "wrong_or_failed": []}  # fmt: skip
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(base, i, deadline, members, stats, lock)) for i in range(clients)]
    peak, stop = [0], threading.Event()

    def sample() -> None:
        server = psutil.Process(server_pid)
        while not stop.wait(0.2):
            try:
                rss = server.memory_info().rss + sum(c.memory_info().rss for c in server.children(recursive=True))
            except psutil.Error:
                continue
            peak[0] = max(peak[0], rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    latency = sorted(stats.pop("latency"))
    return {**stats, "clients": clients, "seconds": round(time.monotonic() - began, 1), "members": members,
            "submit_p50_s": round(latency[len(latency) // 2], 3), "submit_max_s": round(latency[-1], 3),
            "peak_rss_mib": round(peak[0] / 2**20), "server_rss_after_mib":
            round(psutil.Process(server_pid).memory_info().rss / 2**20)}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*flags: str) -> tuple[subprocess.Popen, str]:
    """``refuge serve`` on a free loopback port, once it answers."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "refuge", "serve", "--port", str(port), *flags],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/info", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"refuge serve ended: {server.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("refuge serve did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args()
    server, base = start_server("--max-runs", "2", "--max-queue", "4", "--max-members", "100")
    try:
        before = psutil.Process(server.pid).memory_info().rss
        result = load(base, args.clients, args.seconds, args.members, server.pid)
        result["server_rss_before_mib"] = round(before / 2**20)
    finally:
        server.terminate()
        server.wait(10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
