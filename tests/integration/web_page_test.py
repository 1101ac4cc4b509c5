#!/usr/bin/python3
"""The management page end to end: real lattice-kernels, a real lattice-web, and the page in
Debian's headless Chromium driven by playwright-core (tests/browser/page_test.mjs).

Two kernels, alpha and beta, are joined in a mesh so the page has a peer to show and a key
with concurrent heads: a kv store made on alpha reaches beta, then each node writes the same
key while the other is stopped. A chat store on alpha gets a mesh declaration of the IRC
gateway (consent still manual, so nothing runs). lattice-web serves alpha's socket; the
browser test logs in with alpha's admin cookie and drives the page: create a store, put a
key, see a lattice-ctl write arrive live, open the conflicted key's heads, invite a peer and
copy the token, read the chat store's history and post to it, rename beta, switch the
gateway's consent and see its instance run.

Usage: web_page_test.py --kernel K --ctl C --web W --node NODE --page-test DIR/page_test.mjs
                        [--artifacts DIR] [--chromium PATH] [--web-arg ARG]...
Exit status 77 (skipped): Chromium, node (20 or newer, for playwright-core) or the test's npm
packages are missing.
Nothing sleeps to wait: every wait polls for the awaited thing with a deadline.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_support as support  # noqa: E402
from web_support import MeshKernel as Kernel, TestFailure, check, free_port, tail  # noqa: E402,F401

DEADLINE = 60.0  # seconds for anything that crosses nodes or starts a process
SKIP = 77


def wait_until(predicate, what, deadline=DEADLINE):
    return support.wait_until(predicate, what, deadline)


class Web:
    """A lattice-web on a free loopback port, serving `kernel`'s socket. Its stderr goes to a
    log file; the line `lattice-web: listening on http://HOST:PORT` gives the address."""

    def __init__(self, args, kernel, root):
        self.log_path = os.path.join(root, "web.log")
        self.url = None
        command = [args.web, "--socket", kernel.socket, "--listen", "127.0.0.1:0", *args.web_arg]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Drained for as long as the process runs: a full pipe would stall the server.
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        wait_until(lambda: self.url is not None or self.process.poll() is not None,
                   "lattice-web to print its address")
        check(self.url is not None, "lattice-web exited with %s before listening: %s"
              % (self.process.returncode, tail(self.log_path)))

    def _drain(self):
        with open(self.log_path, "ab") as log:
            for line in self.process.stderr:
                log.write(line)
                log.flush()
                match = re.search(rb"lattice-web: listening on (http://\S+)", line)
                if match and self.url is None:
                    self.url = match.group(1).decode().rstrip("/") + "/"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def make_conflict(alpha, beta, store, key):
    """`key` written on alpha while beta is stopped and on beta while alpha is stopped: two
    concurrent heads once they meet again."""
    beta.stop()
    alpha.ctl("kv", "put", store, key, "written on alpha")
    alpha.stop()
    beta.start()
    beta.ctl("kv", "put", store, key, "written on beta")
    alpha.start()

    def conflicted():
        inspect = alpha.ctl_json("kv", "inspect", store, key)
        return inspect.get("conflicted") and len(inspect.get("heads", [])) >= 2
    wait_until(conflicted, "alpha to hold both heads of %s" % key)


def run(args, root):
    alpha = Kernel(args, os.path.join(root, "alpha"), "alpha")
    beta = Kernel(args, os.path.join(root, "beta"), "beta")
    kernels = [alpha, beta]
    web = None
    try:
        alpha.start()
        beta.start()
        invite = alpha.ctl("peer", "invite").strip()
        check(invite, "peer invite printed no token")
        beta.ctl("peer", "join", invite, "--name", "beta")
        wait_until(lambda: alpha.status().get("peers_connected", 0) >= 1
                   and beta.status().get("peers_connected", 0) >= 1, "alpha and beta to connect")

        created = alpha.ctl("store", "create", "conflicts", "--type", "kv")
        store_id = created.split()[0]
        wait_until(lambda: beta.has_store(store_id), "the conflicts store to reach beta")
        make_conflict(alpha, beta, "conflicts", "same")

        alpha.ctl("store", "create", "lobby", "--type", "chat")
        alpha.ctl("chat", "post", "lobby", "#general", "hello from lattice-ctl", "--sender", "alice")
        alpha.ctl("service", "declare", "lattice.irc-gateway", "--store", "lobby",
                  "--policy", "Global", "--set", "port=%d" % free_port())

        web = Web(args, alpha, root)
        ctl = " ".join(shlex.quote(part) for part in alpha.ctl_command())
        env = dict(os.environ,
                   LATTICE_WEB_URL=web.url,
                   LATTICE_WEB_TOKEN=alpha.admin_cookie(),
                   LATTICE_WEB_ARTIFACTS=args.artifacts,
                   LATTICE_WEB_STORE="notes",
                   LATTICE_CTL_WRITE=ctl + ' kv put "$STORE" "$KEY" "$VALUE"',
                   LATTICE_WEB_CONFLICT_STORE="conflicts",
                   LATTICE_WEB_CONFLICT_KEY="same",
                   LATTICE_WEB_CHAT_STORE="lobby",
                   LATTICE_WEB_CHAT_CHANNEL="general",
                   LATTICE_WEB_CHAT_TEXT="hello from lattice-ctl",
                   LATTICE_WEB_PEER="alpha",
                   LATTICE_WEB_SERVICE="lattice.irc-gateway",
                   LATTICE_WEB_SERVICE_CONSENT="follow-mesh",
                   CHROMIUM=args.chromium)
        print("lattice-web at %s; screenshots in %s" % (web.url, args.artifacts), flush=True)
        done = subprocess.run([args.node, "--test", "--test-reporter=spec", args.page_test],
                              env=env, cwd=os.path.dirname(args.page_test), timeout=600)
        check(done.returncode == 0, "the browser test failed (exit %d); lattice-web's log: %s"
              % (done.returncode, tail(web.log_path)))
        check(web.process.poll() is None, "lattice-web exited during the test: %s"
              % tail(web.log_path))
    except TestFailure:
        for kernel in kernels:
            print("--- %s's log:%s" % (kernel.name, tail(kernel.log_path)), file=sys.stderr)
        raise
    finally:
        if web:
            web.stop()
        for kernel in kernels:
            kernel.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--web", required=True)
    parser.add_argument("--node", default=shutil.which("node") or "node")
    parser.add_argument("--page-test", required=True, help="page_test.mjs beside its node_modules")
    parser.add_argument("--artifacts", default=None, help="where the screenshots go")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--web-arg", action="append", default=[],
                        help="an extra argument for lattice-web (repeatable)")
    args = parser.parse_args()
    for name in ("kernel", "ctl", "web", "page_test"):
        setattr(args, name, os.path.abspath(getattr(args, name)))

    missing = [what for what, present in [
        ("Chromium at %s" % args.chromium, os.access(args.chromium, os.X_OK)),
        ("node", shutil.which(args.node) is not None),
        ("playwright-core beside %s (build the lattice_browser_tests target)" % args.page_test,
         os.path.isdir(os.path.join(os.path.dirname(args.page_test), "node_modules",
                                    "playwright-core")))] if not present]
    if missing:
        print("skipped: missing " + ", ".join(missing))
        return SKIP
    # playwright-core refuses to run on older node (Debian 12's nodejs is 18).
    version = subprocess.run([args.node, "--version"], capture_output=True, text=True).stdout
    major = re.match(r"v(\d+)\.", version)
    if not major or int(major.group(1)) < 20:
        print("skipped: playwright-core needs node 20 or newer, %s is %s"
              % (args.node, version.strip() or "unknown"))
        return SKIP

    root = tempfile.mkdtemp(prefix="lattice-web-page-")
    args.artifacts = os.path.abspath(args.artifacts or os.path.join(root, "screenshots"))
    os.makedirs(args.artifacts, exist_ok=True)
    try:
        run(args, root)
    except TestFailure as failure:
        print("FAILED: %s\n(processes' files kept in %s)" % (failure, root), file=sys.stderr)
        return 1
    shutil.rmtree(root, ignore_errors=True)
    print("passed; screenshots in %s" % args.artifacts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
