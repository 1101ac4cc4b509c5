#!/usr/bin/python3
"""lattice-web's benchmarks (issue 16), each beside its same-run baseline:

1. GET and PUT of one key with wrk at 1 and 64 connections: requests per second and p50/p99
   latency, against etcd's JSON gateway (Debian's etcd-server: POST /v3/kv/range and
   /v3/kv/put) on the same machine, in the same run. The kernel's own gRPC figures for the
   same operations come from lattice-kernel-bench (--only kernel) when it is built.
2. 1,000 server-sent-event watchers of one store: the latency from a PUT's answer to the
   arrival of its event at each watcher (p50, p99 and the last watcher), and lattice-web's
   resident memory per idle watcher (target: under 64 KiB).

Usage: bench/web_bench.py --build BUILD_DIR [--seconds S] [--watchers N] [--only http,sse]
Every server listens on 127.0.0.1 only.
"""

import argparse
import base64
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from web_support import Kernel, Web, wait_until  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wrk(url, connections, seconds, script=None, headers=()):
    """Runs wrk; returns (requests per second, p50 ms, p99 ms, non-2xx count)."""
    command = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
               "%ds" % seconds, "--latency"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(name):
        match = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % name, out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, percentile("50"), percentile("99"), int(errors.group(1)) if errors else 0


def lua(root, name, method, body, content_type):
    path = os.path.join(root, name + ".lua")
    with open(path, "w") as f:
        f.write('wrk.method = "%s"\n' % method)
        if body is not None:
            f.write("wrk.body = %s\n" % json.dumps(body))
        if content_type:
            f.write('wrk.headers["Content-Type"] = "%s"\n' % content_type)
    return path


class Etcd:
    def __init__(self, root):
        self.port = free_port()
        peer = free_port()
        self.log = open(os.path.join(root, "etcd.log"), "ab")
        self.process = subprocess.Popen(
            ["etcd", "--data-dir", os.path.join(root, "etcd"), "--name", "bench",
             "--listen-client-urls", "http://127.0.0.1:%d" % self.port,
             "--advertise-client-urls", "http://127.0.0.1:%d" % self.port,
             "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
             "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
             "--initial-cluster", "bench=http://127.0.0.1:%d" % peer],
            stdout=self.log, stderr=self.log)
        wait_until(self.ready, "etcd to answer", 60)

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
        except OSError:
            return False
        done = subprocess.run(["curl", "-sS", "-X", "POST", self.url("/v3/kv/put"), "-d",
                               json.dumps({"key": "YQ==", "value": "YQ=="})],
                              capture_output=True, text=True)
        return done.returncode == 0 and "header" in done.stdout

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def http_bench(args, world, root):
    value = "v" * 100
    key_b64 = base64.b64encode(b"bench-key").decode()
    value_b64 = base64.b64encode(value.encode()).decode()
    auth = "Authorization: Bearer " + world["token"]
    web_url = world["web"].url + "/api/v1/stores/bench/keys/bench-key"
    put_web = lua(root, "put_web", "PUT", value, "application/octet-stream")
    put_etcd = lua(root, "put_etcd", "POST", json.dumps({"key": key_b64, "value": value_b64}),
                   "application/json")
    get_etcd = lua(root, "get_etcd", "POST", json.dumps({"key": key_b64}), "application/json")
    etcd = Etcd(root)
    rows = []
    try:
        subprocess.run(["curl", "-sS", "-X", "PUT", "-H", auth, "--data-binary", value, web_url],
                       check=True, capture_output=True)
        for connections in (1, 64):
            for op in ("GET", "PUT"):
                web = wrk(web_url, connections, args.seconds,
                          put_web if op == "PUT" else None, [auth])
                base = wrk(etcd.url("/v3/kv/put" if op == "PUT" else "/v3/kv/range"), connections,
                           args.seconds, put_etcd if op == "PUT" else get_etcd)
                rows.append((op, connections, web, base))
    finally:
        etcd.stop()
    print("\n%-4s %5s | %12s %8s %8s | %12s %8s %8s | %s" % (
        "op", "conns", "lattice r/s", "p50 ms", "p99 ms", "etcd r/s", "p50 ms", "p99 ms",
        "ratio (lattice/etcd r/s)"))
    for op, connections, web, base in rows:
        print("%-4s %5d | %12.0f %8.2f %8.2f | %12.0f %8.2f %8.2f | %.2f%s" % (
            op, connections, web[0], web[1], web[2], base[0], base[1], base[2], web[0] / base[0],
            "  (non-2xx: %d/%d)" % (web[3], base[3]) if web[3] or base[3] else ""))


def sse_bench(args, world, root):
    web = world["web"]
    before = rss_kib(web.process.pid)
    selector = selectors.DefaultSelector()
    sockets = []
    request = ("GET /api/v1/stores/bench/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n" % world["token"])
    for _ in range(args.watchers):
        s = socket.create_connection(("127.0.0.1", web.port))
        s.sendall(request.encode())
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ, bytearray())
        sockets.append(s)

    def drain(until_all_have=None, deadline=60):
        """Reads until every socket's buffer holds `until_all_have`; returns arrival times."""
        arrived = {}
        end = time.monotonic() + deadline
        while len(arrived) < len(sockets) and time.monotonic() < end:
            for key, _ in selector.select(timeout=1):
                buffer = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    raise SystemExit("a watcher's stream closed")
                buffer += chunk
                if until_all_have is None or until_all_have in buffer:
                    arrived.setdefault(key.fileobj, time.monotonic())
        return arrived

    started = drain(b"\nid: ")  # every watcher has its starting position
    if len(started) < len(sockets):
        raise SystemExit("only %d of %d watchers started" % (len(started), len(sockets)))
    for s in sockets:
        selector.get_key(s).data.clear()
    idle = rss_kib(web.process.pid)
    latencies, lasts = [], []
    for round_number in range(args.rounds):
        marker = ("fan-%d" % round_number).encode()
        subprocess.run(["curl", "-sS", "-X", "PUT", "-H", "Authorization: Bearer " + world["token"],
                        "--data-binary", "x", web.url + "/api/v1/stores/bench/keys/" +
                        marker.decode()], check=True, capture_output=True)
        answered = time.monotonic()
        arrived = drain(marker)
        if len(arrived) < len(sockets):
            raise SystemExit("only %d of %d watchers saw round %d" % (len(arrived), len(sockets),
                                                                      round_number))
        times = sorted((t - answered) * 1000 for t in arrived.values())
        latencies += times
        lasts.append(times[-1])
        for s in sockets:
            selector.get_key(s).data.clear()
    latencies.sort()
    per_watcher = (idle - before) * 1024 / len(sockets)
    print("\nSSE fan-out to %d watchers over %d writes: p50 %.2f ms, p99 %.2f ms, last watcher "
          "(median over writes) %.2f ms" % (len(sockets), args.rounds,
                                            latencies[len(latencies) // 2],
                                            latencies[int(len(latencies) * 0.99)],
                                            sorted(lasts)[len(lasts) // 2]))
    print("lattice-web RSS: %d KiB before, %d KiB with %d idle watchers: %.1f KiB per watcher "
          "(target < 64 KiB)" % (before, idle, len(sockets), per_watcher / 1024))
    for s in sockets:
        s.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", default="http,sse")
    parser.add_argument("--io-threads", type=int, default=2, help="lattice-web's io_threads")
    args = parser.parse_args()
    binaries = argparse.Namespace(kernel=os.path.join(args.build, "lattice-kernel/lattice-kernel"),
                                  ctl=os.path.join(args.build, "lattice-ctl/lattice-ctl"),
                                  web=os.path.join(args.build, "lattice-web/lattice-web"))
    root = tempfile.mkdtemp(prefix="lattice-web-bench-")
    kernel = Kernel(binaries, root, "bench")
    config = os.path.join(root, "web.toml")
    with open(config, "w") as f:
        f.write("[web]\nio_threads = %d\n" % args.io_threads)
    web = Web(binaries, kernel, root, ["--config", config], log_level="info")
    try:
        kernel.start()
        kernel.ctl("store", "create", "bench", "--type", "kv")
        token = kernel.token("bench", "--store", "bench", "--rights", "read,write,watch")
        web.start()
        world = {"web": web, "token": token}
        only = args.only.split(",")
        if "http" in only:
            http_bench(args, world, root)
        if "sse" in only:
            sse_bench(args, world, root)
    finally:
        web.stop()
        kernel.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
