#!/usr/bin/env python3
"""The kernel benchmark's harness as its users run it: its kernel never listens beyond
loopback, and a run that fails leaves none of the servers it started behind.

Usage: bench_harness_test.py LATTICE_KERNEL_BENCH
"""
import os
import socket
import subprocess
import sys
import tempfile

DEFAULT_PEER_PORT = 7470


def processes_mentioning(text):
    """The pids whose command line mentions `text` (other than this test's own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass  # ended meanwhile
    return found


def run(bench, work, *extra):
    argv = [bench, "--work-dir", work, "--rounds", "1", "--duration", "0.2", "--warmup-ms", "50",
            "--sustained-s", "0", *extra]
    print("running: " + " ".join(argv), flush=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def main():
    bench = sys.argv[1]
    failures = []
    # Holding the kernel's default peer port on loopback makes a kernel that would listen on
    # it (on every address, the default) fail to start. When something else holds it already
    # the effect is the same.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", DEFAULT_PEER_PORT))
        holder.listen(1)
    except OSError as e:
        print(f"port {DEFAULT_PEER_PORT} is held elsewhere already ({e})")

    with tempfile.TemporaryDirectory(prefix="lattice-bench-harness-") as work:
        done = run(bench, work, "--only", "kernel")
        if done.returncode != 0:
            failures.append(f"the kernel's figures failed (exit {done.returncode}): "
                            f"{done.stderr[-2000:]}")
        elif "kernel put" not in done.stdout:
            failures.append("the kernel's figures were not printed:\n" + done.stdout[-2000:])

        # The floors, the one that syncs on a writer thread of its own among them: each of its
        # figures is a rate above zero, so its calls were answered from that thread.
        floors = run(bench, work, "--only", "floor")
        if floors.returncode != 0:
            failures.append(f"the floors' figures failed (exit {floors.returncode}): "
                            f"{floors.stderr[-2000:]}")
        for name in ("handed-off durable floor put 1c", "handed-off durable floor put 16c",
                     "handed-off durable floor batch64 16c"):
            rates = [line.split()[len(name.split())] for line in floors.stdout.splitlines()
                     if line.startswith(name + " ")]
            if not rates or float(rates[0]) <= 0:
                failures.append(f"no rate for {name!r}:\n" + floors.stdout[-3000:])

        # etcd missing: the run fails after its floors and kernel have started.
        failed = run(bench, work, "--only", "floor,kernel,etcd", "--etcd",
                     os.path.join(work, "no-such-etcd"))
        if failed.returncode == 0:
            failures.append("a run without its etcd binary succeeded")
        elif "etcd" not in failed.stderr:
            failures.append("the failure does not name etcd: " + failed.stderr[-2000:])
        if "kernel up" not in failed.stderr:
            failures.append("the kernel had not started before the failure, so nothing was "
                            "left to stop: " + failed.stderr[-2000:])
        left = processes_mentioning(work)
        if left:
            failures.append(f"servers left running after the failed run: {left}")
            for pid in left:
                os.kill(pid, 9)
    holder.close()

    for failure in failures:
        print("FAIL: " + failure)
    if failures:
        return 1
    print("ok: the harness's kernel stays off the network and a failed run stops its servers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
