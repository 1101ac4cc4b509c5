#!/usr/bin/python3
"""lattice-irc beside ngIRCd in one run: the same asyncio load generator drives a real
lattice-irc (in front of a real lattice-kernel in a temporary directory) and Debian's ngIRCd
(started with its own configuration in the same temporary directory), both on loopback.

For each server it measures:
  1. registration: N clients (default 200) connect at once, register (NICK, USER) and JOIN
     one channel; the time until every one of them has its 366 (end of NAMES);
  2. fan-out, with 10 senders and with N-1 senders (every client but the probe): every
     client is in the channel; each sender keeps up to --window of its messages unseen by
     the probe client, for --seconds; each message carries its send time, and every client
     that receives it records the latency. Figures: messages posted per second, lines
     delivered per second (messages x recipients), p50/p99 of send-to-receive latency over
     all deliveries;
  3. the same N-1 senders each paced at --paced-rate messages a second (below ngIRCd's
     penalty): the same offered load on both servers, so the latencies compare directly
     (with a window, the faster server also queues more in the one client process).
Then it prints both servers' figures side by side and lattice-irc's ratios to ngIRCd's.

Both servers run with their defaults except the limits a benchmark must lift on ngIRCd
(MaxConnectionsIP, MaxJoins): ngIRCd keeps its per-client penalty (about three commands per
second once a client has used its burst), lattice-irc its own (100 lines ahead, 100 lines a
second). Clients, servers and kernel share the machine: run it when the machine is quiet.

Usage: irc_compare_bench.py --kernel K --ctl C --irc I [--ngircd PATH] [--clients 200]
                            [--seconds 10] [--window 4] [--skip-ngircd]
bench/run-irc-bench.sh installs ngIRCd (Debian package ngircd), builds and runs this.
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CHANNEL = "#bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what, deadline=30.0):
    end = time.time() + deadline
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit("irc_compare_bench: timed out waiting for " + what)


# ---- Servers ------------------------------------------------------------------------------


class Lattice:
    name = "lattice-irc"

    def __init__(self, args, root):
        self.root = root
        self.socket = os.path.join(root, "kernel.sock")
        self.ctl_binary = args.ctl
        log = open(os.path.join(root, "kernel.log"), "ab")
        self.kernel = subprocess.Popen(
            [args.kernel, "--data-dir", os.path.join(root, "data"), "--socket", self.socket,
             "--name", "bench", "--listen", ""], stdout=log, stderr=log)
        wait_until(lambda: self.ctl_ok("status"), "the kernel")
        self.ctl("store", "create", "bench", "--type", "chat")
        out = self.ctl("token", "create", "irc", "--store", "bench",
                       "--rights", "read,write,watch")
        token = re.search(r"token:\s*(\S+)", out).group(1)
        env = dict(os.environ, LATTICE_TOKEN=token)
        env.pop("LATTICE_SOCKET", None)
        self.gateway = subprocess.Popen(
            [args.irc, "--store", "bench", "--socket", self.socket, "--listen", "127.0.0.1:0",
             "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(root, "irc.log"), "ab"), env=env)
        line = self.gateway.stdout.readline().decode()
        match = re.match(r"lattice-irc listening on 127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SystemExit("irc_compare_bench: lattice-irc said %r" % line)
        self.port = int(match.group(1))
        self.pid = self.gateway.pid

    def ctl_ok(self, *args):
        return subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True).returncode == 0

    def ctl(self, *args):
        done = subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise SystemExit("lattice-ctl %s: %s" % (" ".join(args), done.stderr))
        return done.stdout

    def cpu_pids(self):
        return [self.gateway.pid, self.kernel.pid]

    def stop(self):
        for process in (self.gateway, self.kernel):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Ngircd:
    name = "ngIRCd"

    def __init__(self, args, root):
        self.port = free_port()
        conf = os.path.join(root, "ngircd.conf")
        motd = os.path.join(root, "ngircd.motd")
        with open(motd, "w") as f:
            f.write("bench\n")
        with open(conf, "w") as f:
            f.write("""[Global]
Name = bench.ngircd.test
Info = ngIRCd for irc_compare_bench
Listen = 127.0.0.1
Ports = %d
MotdFile = %s
PidFile = %s
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
""" % (self.port, motd, os.path.join(root, "ngircd.pid")))
        self.process = subprocess.Popen([args.ngircd, "--nodaemon", "--config", conf],
                                        stdout=open(os.path.join(root, "ngircd.log"), "ab"),
                                        stderr=subprocess.STDOUT)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_until(listening, "ngIRCd to listen")

    def cpu_pids(self):
        return [self.process.pid]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


# ---- Clients --------------------------------------------------------------------------------


class Client(asyncio.Protocol):
    """One IRC connection: registers, joins, records channel lines' latencies."""

    def __init__(self, bench, nick):
        self.bench = bench
        self.nick = nick
        self.buffer = b""
        self.transport = None
        self.joined = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send("NICK %s\r\nUSER %s 0 * :bench client\r\nJOIN %s\r\n"
                  % (self.nick, self.nick, CHANNEL))

    def send(self, text):
        self.transport.write(text.encode())

    def data_received(self, data):
        now = time.perf_counter_ns()
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\r\n")
        for line in lines:
            if b" PRIVMSG " in line:
                # ":nick!u@h PRIVMSG #bench :m <sender> <seq> <ns>"
                text = line.rsplit(b" :m ", 1)
                if len(text) == 2:
                    sender, seq, sent = text[1].split(b" ")
                    self.bench.delivered(self, int(sender), int(seq), now - int(sent))
            elif b"PING" in line and line.startswith(b"PING"):
                self.send("PONG " + line[5:].decode() + "\r\n")
            elif not self.joined.done() and (b" 366 " + self.nick.encode() + b" ") in line:
                self.joined.set_result(time.perf_counter())
            elif line.startswith(b"ERROR"):
                print("  %s: %s" % (self.nick, line.decode(errors="replace")), file=sys.stderr)

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(True)
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(self.nick + " was disconnected"))


class Bench:
    def __init__(self, port):
        self.port = port
        self.clients = []
        self.recording = False
        self.latencies = []
        self.deliveries = 0
        self.seen = {}  # sender -> highest seq the probe (client 0) has seen
        self.waiters = {}

    def delivered(self, client, sender, seq, latency_ns):
        if client is self.clients[0]:
            waiter = self.waiters.get(sender)
            self.seen[sender] = max(self.seen.get(sender, -1), seq)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        if self.recording:
            self.deliveries += 1
            self.latencies.append(latency_ns)

    async def connect(self, count):
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        for i in range(count):
            _, client = await loop.create_connection(
                lambda i=i: Client(self, "b%03d" % i), "127.0.0.1", self.port)
            self.clients.append(client)
        joined = await asyncio.wait_for(asyncio.gather(*(c.joined for c in self.clients)), 120)
        return max(joined) - started

    async def fanout(self, senders, seconds, window, rate=0.0):
        """Senders 1..senders (client 0 is the probe and never sends)."""
        self.waiters = {}
        self.seen = {}
        self.latencies = []
        self.deliveries = 0
        posted = [0]
        stop = [False]
        next_at = {}

        async def sender(index):
            client = self.clients[index]
            seq = 0
            while not stop[0]:
                # Keep at most `window` messages the probe has not seen.
                while seq - (self.seen.get(index, -1) + 1) >= window and not stop[0]:
                    self.waiters[index] = asyncio.get_running_loop().create_future()
                    try:
                        await asyncio.wait_for(self.waiters[index], 1.0)
                    except asyncio.TimeoutError:
                        pass
                if stop[0]:
                    break
                client.send("PRIVMSG %s :m %d %d %d\r\n"
                            % (CHANNEL, index, seq, time.perf_counter_ns()))
                seq += 1
                if self.recording:
                    posted[0] += 1
                if rate > 0:
                    # Paced: the senders start spread over one period, then keep the rate.
                    if seq == 1:
                        next_at[index] = time.perf_counter() + (index % 97) / 97.0 / rate
                    next_at[index] += 1.0 / rate
                    await asyncio.sleep(max(0.0, next_at[index] - time.perf_counter()))
                else:
                    await asyncio.sleep(0)

        tasks = [asyncio.create_task(sender(i)) for i in range(1, senders + 1)]
        await asyncio.sleep(1.0)  # warm-up
        self.recording = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        self.recording = False
        elapsed = time.perf_counter() - started
        stop[0] = True
        for waiter in self.waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        await asyncio.gather(*tasks)
        await asyncio.sleep(1.0)  # let the last lines drain before the next run
        latencies = sorted(self.latencies)

        def pct(p):
            if not latencies:
                return float("nan")
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] / 1e6
        return {
            "posted_per_s": posted[0] / elapsed,
            "delivered_per_s": self.deliveries / elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": statistics.fmean(latencies) / 1e6 if latencies else float("nan"),
        }

    def close(self):
        for client in self.clients:
            if client.transport is not None:
                client.transport.close()


async def measure(server, args):
    bench = Bench(server.port)
    figures = {}
    cpu_before = cpu_seconds(server.cpu_pids())
    try:
        figures["register_s"] = await bench.connect(args.clients)
    except (ConnectionError, asyncio.TimeoutError) as e:
        bench.close()
        print("  %s: registration failed: %r" % (server.name, e), file=sys.stderr)
        return figures
    for senders in (10, args.clients - 1):
        result = await bench.fanout(senders, args.seconds, args.window)
        for key, value in result.items():
            figures["%d_%s" % (senders, key)] = value
    result = await bench.fanout(args.clients - 1, args.seconds, args.window, args.paced_rate)
    for key, value in result.items():
        figures["paced_%s" % key] = value
    figures["cpu_s"] = cpu_seconds(server.cpu_pids()) - cpu_before
    bench.close()
    await asyncio.sleep(0.5)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--irc", required=True)
    parser.add_argument("--ngircd", default=shutil.which("ngircd") or "/usr/sbin/ngircd")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=4,
                        help="messages of one sender in flight (unseen by the probe)")
    parser.add_argument("--paced-rate", type=float, default=2.0,
                        help="messages a second per sender in the paced run")
    parser.add_argument("--skip-ngircd", action="store_true")
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="irc-compare-bench-")
    print("load average at start: %s" % open("/proc/loadavg").read().strip())
    print("%d clients in %s, %.0f s per fan-out run, window %d per sender"
          % (args.clients, CHANNEL, args.seconds, args.window))
    results = {}
    kinds = [Lattice] + ([] if args.skip_ngircd else [Ngircd])
    for kind in kinds:
        sub = os.path.join(root, kind.name)
        os.makedirs(sub)
        server = kind(args, sub)
        try:
            print("running %s ..." % kind.name, flush=True)
            results[kind.name] = asyncio.run(measure(server, args))
        finally:
            server.stop()
    print("load average at end: %s" % open("/proc/loadavg").read().strip())

    rows = [("register_s", "%d clients register and join (s)" % args.clients, "%.2f")]
    for senders in (10, args.clients - 1):
        rows += [
            ("%d_posted_per_s" % senders, "%d senders: messages posted / s" % senders, "%.0f"),
            ("%d_delivered_per_s" % senders, "%d senders: lines delivered / s" % senders, "%.0f"),
            ("%d_p50_ms" % senders, "%d senders: latency p50 (ms)" % senders, "%.1f"),
            ("%d_p99_ms" % senders, "%d senders: latency p99 (ms)" % senders, "%.1f"),
        ]
    label = "%d senders at %g/s" % (args.clients - 1, args.paced_rate)
    rows += [
        ("paced_posted_per_s", label + ": messages / s", "%.0f"),
        ("paced_delivered_per_s", label + ": lines / s", "%.0f"),
        ("paced_p50_ms", label + ": p50 (ms)", "%.1f"),
        ("paced_p99_ms", label + ": p99 (ms)", "%.1f"),
    ]
    rows.append(("cpu_s", "server CPU over the run (s)", "%.1f"))
    names = list(results)
    print()
    print("%-44s" % "" + "".join("%14s" % n for n in names)
          + ("%10s" % "ratio" if len(names) == 2 else ""))
    for key, label, fmt in rows:
        values = [results[n].get(key) for n in names]
        line = "%-44s" % label + "".join(
            "%14s" % (fmt % v if v is not None else "-") for v in values)
        if len(names) == 2 and None not in values and values[1] and key != "cpu_s":
            line += "%10s" % ("%.2fx" % (values[0] / values[1]))
        print(line)
    print("\nratio: lattice-irc / ngIRCd (higher is better for rates, lower for times)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
