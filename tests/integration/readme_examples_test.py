#!/usr/bin/python3
"""What a newcomer meets first, against real kernels: every lattice-ctl command of the
README's examples runs as written (exit 0), `store sync --wait` on a node without peers
succeeds with nothing to reconcile, and a kernel whose peer port is taken stops at once
saying so in one line.

Usage: readme_examples_test.py --kernel K --ctl C --readme README.md SCENARIO
Each scenario starts its own kernels in a temporary directory, listening on loopback only.
Nothing sleeps to wait: every wait polls for the awaited thing with a deadline.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from irc_gateway_test import Kernel as GatewayKernel  # noqa: E402
from irc_gateway_test import TestFailure, check, tail, wait_until  # noqa: E402


class Kernel(GatewayKernel):
    """A lattice-kernel on its own data directory and socket, peers on loopback only."""

    def __init__(self, args, root, name, extra=()):
        self.args = args
        self.name = name
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "kernel.sock")
        self.log_path = os.path.join(self.dir, "kernel.log")
        self.command = [args.kernel, "--data-dir", os.path.join(self.dir, "data"),
                        "--socket", self.socket, "--name", name, *extra]
        self.process = None
        self.cwd = None  # where lattice-ctl runs (the README's local files are relative)

    def start(self, listen="127.0.0.1:0"):
        self.process = subprocess.Popen(self.command + ["--listen", listen],
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(self.log_path, "ab"))
        wait_until(lambda: self.run("status").returncode == 0,
                   "kernel %s to answer on its socket" % self.name)

    def run(self, *args, timeout=60):
        if self.process is not None and self.process.poll() is not None:
            raise TestFailure("kernel %s exited: %s" % (self.name, tail(self.log_path)))
        return subprocess.run([self.args.ctl, "--socket", self.socket, *args],
                              capture_output=True, text=True, timeout=timeout, cwd=self.cwd)

    def ctl(self, *args):
        done = self.run(*args)
        check(done.returncode == 0, "lattice-ctl %s on %s exited %d: %s%s" % (
            " ".join(args), self.name, done.returncode, done.stdout, done.stderr))
        return done.stdout



# ---- The README ------------------------------------------------------------------------------


def readme_commands(path):
    """The lattice-ctl command lines of the README's sh blocks, in order, as
    (machine, words): machine is "A" unless a "# on B" line switched to B. A word written
    "stop|start|reset" stands for three commands; trailing comments are dropped."""
    with open(path) as f:
        text = f.read()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        machine = "A"
        for line in block.splitlines():
            line = line.strip()
            marker = re.match(r"#\s*on\s+(\w+)$", line)
            if marker:
                machine = marker.group(1)
                continue
            line = re.sub(r"\s{2,}#.*$", "", line)
            if not re.match(r"(build/lattice-ctl/)?lattice-ctl\s", line):
                continue
            words = shlex.split(line)[1:]
            variants = [words]
            for i, word in enumerate(words):
                if re.fullmatch(r"[a-z-]+(\|[a-z-]+)+", word):
                    variants = [words[:i] + [choice] + words[i + 1:] for choice in word.split("|")]
                    break
            commands.extend((machine, variant) for variant in variants)
    return commands


def run_watch(kernel, words):
    """A watch never ends by itself: it must print its first event, then it is stopped."""
    process = subprocess.Popen([kernel.args.ctl, "--socket", kernel.socket, *words],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        check(line.strip(), "lattice-ctl %s printed nothing: %s" % (
            " ".join(words), process.stderr.read() if process.poll() is not None else ""))
    finally:
        process.terminate()
        process.wait(timeout=10)


def readme_examples(args, root):
    """Every lattice-ctl line of the README, in order, on two kernels A and B ("# on B"
    lines run on B). TOKEN is what `peer invite` printed; VERSION is the oldest version the
    last `fs history` printed. Local files run in a scratch directory, where each FILE an
    `fs put` names is made first and `fs cat` must print it back. Daemons are not started: the
    kernels find no binaries, so the examples bind no fixed port."""
    no_binaries = os.path.join(root, "no-binaries")
    os.makedirs(no_binaries)
    work = os.path.join(root, "work")
    os.makedirs(work)
    kernels = {name: Kernel(args, root, name, ["--bin-dir", no_binaries]) for name in ("A", "B")}
    put_content = {}
    version = None
    try:
        for kernel in kernels.values():
            kernel.cwd = work
            kernel.start()
        commands = readme_commands(args.readme)
        check(len(commands) > 20, "found only %d README commands" % len(commands))
        token = None
        for machine, words in commands:
            kernel = kernels[machine]
            words = [token if word == "TOKEN" and token else word for word in words]
            words = [version if word == "VERSION" and version else word for word in words]
            if words[:2] == ["fs", "put"] and len(words) > 4 and words[4] != "-":
                local = os.path.join(work, words[4])
                if not os.path.exists(local):
                    with open(local, "w") as f:
                        f.write("a line from the README's example, %s\n" % words[4])
                with open(local) as f:
                    put_content[words[3]] = f.read()
            shown = "%s: lattice-ctl %s" % (machine, " ".join(words))
            if words[:2] == ["kv", "watch"]:
                run_watch(kernel, words)
                continue
            if words[:2] == ["store", "status"] and machine != "A":
                # "once bootstrapped": the store reaches B by bootstrap after the join.
                wait_until(lambda: kernel.run(*words).returncode == 0, shown + " to succeed",
                           deadline=60)
                continue
            done = kernel.run(*words)
            check(done.returncode == 0, "%s exited %d:\n%s%s" % (
                shown, done.returncode, done.stdout, done.stderr))
            if words[:2] == ["peer", "invite"]:
                token = done.stdout.strip()
            if words[:2] == ["fs", "history"]:
                version = done.stdout.strip().splitlines()[-1].split()[0]
            if words[:2] == ["fs", "cat"] and words[3] in put_content:
                check(done.stdout == put_content[words[3]], "%s printed %r" % (shown, done.stdout))
            if words[:2] == ["chat", "history"]:
                check("hello, mesh" in done.stdout, "%s shows no message:\n%s" % (shown, done.stdout))
            if words[:2] == ["store", "sync"] and "nothing to reconcile" not in done.stdout:
                check("ok" in done.stdout, "%s:\n%s" % (shown, done.stdout))
        check(token, "the README has no `peer invite`")
    finally:
        for kernel in kernels.values():
            kernel.stop()


def sync_wait_without_peers(args, root):
    """`store sync --wait` on a node that shares the store with nobody: nothing to
    reconcile, which is success, in text and in JSON."""
    kernel = Kernel(args, root, "alone")
    try:
        kernel.start(listen="")
        kernel.ctl("store", "create", "notes", "--type", "kv")
        done = kernel.run("store", "sync", "notes", "--wait")
        check(done.returncode == 0, "store sync --wait exited %d: %s%s" % (
            done.returncode, done.stdout, done.stderr))
        check("nothing to reconcile" in done.stdout, "store sync --wait said: %r" % done.stdout)
        document = json.loads(kernel.ctl("--json", "store", "sync", "notes", "--wait"))
        check(document["ok"] is True and document["results"] == []
              and document["nothing_to_reconcile"] is True, "JSON: %r" % document)
    finally:
        kernel.stop()


def peer_port_taken(args, root):
    """A kernel asked to listen for peers on a port another process holds exits at once
    with one line that names the address, says it is in use and how to choose another."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    address = "127.0.0.1:%d" % holder.getsockname()[1]
    kernel = Kernel(args, root, "second")
    try:
        kernel.process = subprocess.Popen(kernel.command + ["--listen", address],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          text=True)
        wait_until(lambda: kernel.process.poll() is not None, "the kernel to exit")
        stderr = kernel.process.stderr.read()
        check(kernel.process.returncode != 0, "the kernel exited 0: %s" % stderr)
        problems = [line for line in stderr.splitlines()
                    if re.search(r"\b(error|critical)\b", line)]
        check(len(problems) == 1, "expected one error line, got:\n%s" % stderr)
        line = problems[0]
        check(address in line and "already in use" in line and "--listen" in line,
              "the error line does not say what is wrong and what to do: %r" % line)
        check(not os.path.exists(kernel.socket), "the kernel left its socket behind")
    finally:
        holder.close()
        kernel.stop()


SCENARIOS = {f.__name__: f for f in (readme_examples, sync_wait_without_peers, peer_port_taken)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--irc")
    parser.add_argument("--readme", required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="lattice-readme-")
    ok = False
    try:
        SCENARIOS[args.scenario](args, root)
        ok = True
    except Exception:  # noqa: BLE001 - the report is the test's output
        traceback.print_exc()
        for name in sorted(os.listdir(root)):
            log = os.path.join(root, name, "kernel.log")
            if os.path.exists(log):
                print("---- kernel %s log ----\n%s" % (name, tail(log)))
    finally:
        if ok:
            shutil.rmtree(root, ignore_errors=True)
    print("PASS" if ok else "FAIL", args.scenario)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
