"""What the shared drive's end-to-end tests stand on: real lattice-kernels (alone, or two in a
mesh on loopback whose links run through proxies the test can cut), real lattice-fuse mounts of
an `fs` store, and waits that poll with a deadline (nothing sleeps to wait).

A test file defines scenarios (functions taking a World or a Mesh) and calls run_main; ctest
runs one scenario per test. Exit status 77 (skipped): not root, no /dev/fuse, or a tool the
scenario needs is missing.
"""

import argparse
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

DEADLINE = 30.0
MESH_DEADLINE = 90.0
SKIP = 77


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def wait_until(predicate, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    delay = 0.01
    while True:
        try:
            if predicate():
                return
        except OSError:
            pass
        if time.monotonic() > end:
            raise TestFailure("timed out after %.0fs waiting for %s" % (deadline, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return "(no log at %s)" % path


def need_tools(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            raise Skip("%s is not installed" % tool)


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == path for line in mounts)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd, cwd=None, env=None, timeout=600):
    """Runs a tool as a person would; fails the test with its output when it fails."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    check(done.returncode == 0, "%s failed (%d):\n%s%s" % (" ".join(map(str, cmd)),
                                                           done.returncode, done.stdout[-3000:],
                                                           done.stderr[-3000:]))
    return done.stdout


# ---- Processes ---------------------------------------------------------------------------


class Kernel:
    """A lattice-kernel on a data directory that survives restarts. `listen` None: no peer
    port; "127.0.0.1:0": an ephemeral one, kept across restarts."""

    def __init__(self, args, root, name="alpha", listen=None, advertise=None, extra=()):
        self.args = args
        self.root = root
        self.name = name
        os.makedirs(root, exist_ok=True)
        self.data = os.path.join(root, "data")
        self.socket = os.path.join(root, "run", "kernel.sock")
        self.log_path = os.path.join(root, "kernel.log")
        self.listen = listen
        self.advertise = advertise
        self.extra = list(extra)
        self.process = None
        self.node_id = None

    def start(self):
        os.makedirs(os.path.dirname(self.socket), mode=0o700, exist_ok=True)
        cmd = [self.args.kernel, "--data-dir", self.data, "--socket", self.socket,
               "--name", self.name, "--listen", self.listen or "", "--log-level", "debug"]
        if self.advertise:
            cmd += ["--advertise", self.advertise]
        cmd += self.extra
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(cmd, stdout=log, stderr=log)
        wait_until(lambda: self.ctl_ok("status"), "kernel %s to answer" % self.name)
        status = self.status()
        self.node_id = status["node"]["id"]
        if self.listen:
            addresses = status.get("listen_addresses", [])
            check(addresses and addresses[0].startswith("127.0.0.1:"),
                  "kernel %s listens on %r" % (self.name, addresses))
            self.listen = addresses[0]

    def running(self):
        return self.process is not None and self.process.poll() is None

    def ctl_ok(self, *args):
        if self.process.poll() is not None:
            raise TestFailure("kernel %s exited: %s" % (self.name, tail(self.log_path)))
        return subprocess.run([self.args.ctl, "--socket", self.socket, *args],
                              capture_output=True).returncode == 0

    def ctl_run(self, *args):
        return subprocess.run([self.args.ctl, "--socket", self.socket, *args],
                              capture_output=True, text=True, timeout=60)

    def ctl(self, *args):
        done = self.ctl_run(*args)
        check(done.returncode == 0, "lattice-ctl %s failed: %s%s" % (" ".join(args),
                                                                    done.stdout, done.stderr))
        return done.stdout

    def status(self):
        return json.loads(self.ctl("--json", "status"))

    def peers_connected(self):
        return self.status().get("peers_connected", 0)

    def has_store(self, store_id):
        status = self.status()
        if not any(s.get("id") == store_id for s in status.get("stores", [])):
            return False
        return all(b.get("done", False) for b in status.get("bootstraps", [])
                   if b.get("store_id") == store_id)

    def kill9(self):
        if self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Mount:
    """lattice-fuse serving `store` of `kernel` at `path` (as the operator: the admin cookie
    beside the kernel's socket)."""

    def __init__(self, args, kernel, store, path, extra=()):
        self.args = args
        self.kernel = kernel
        self.store = store
        self.path = path
        self.extra = list(extra)
        self.log_path = path.rstrip("/") + ".fuse.log"
        self.process = None
        os.makedirs(path, exist_ok=True)

    def mounts_logged(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().count("mounted the store")
        except OSError:
            return 0

    def start(self):
        before = self.mounts_logged()
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.args.fuse, "--socket", self.kernel.socket, "--store", self.store, "-f",
             self.path, *self.extra], stdout=log, stderr=log)

        def mounted():
            if self.process.poll() is not None:
                raise TestFailure("lattice-fuse exited %s: %s" % (self.process.returncode,
                                                                  tail(self.log_path)))
            # A stale mount left by a killed lattice-fuse is listed too: wait for this one.
            return self.mounts_logged() > before and is_mounted(self.path)
        wait_until(mounted, "lattice-fuse to mount %s" % self.path)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill9(self):
        if self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if is_mounted(self.path):
            subprocess.run(["umount", "-l", self.path], capture_output=True)


class Proxy:
    """A TCP relay on loopback between a node and the address its peers dial, so a test can
    cut the link (every connection closed, new ones refused) and heal it again."""

    def __init__(self, target):
        self.target = target
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.address = "127.0.0.1:%d" % self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []
        self.cut = False
        self.closed = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def set_target(self, target):
        self.target = target

    def accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                if self.cut or self.closed or self.target is None:
                    client.close()
                    continue
            host, port = self.target.rsplit(":", 1)
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self.relay, args=(client, upstream), daemon=True).start()

    def relay(self, a, b):
        sockets = [a, b]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 1.0)
                with self.lock:
                    if self.cut or self.closed:
                        break
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            for s in sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def partition(self):
        with self.lock:
            self.cut = True
            for s in self.connections:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.connections = []

    def heal(self):
        with self.lock:
            self.cut = False

    def close(self):
        self.closed = True
        self.partition()
        self.server.close()


# ---- Worlds ------------------------------------------------------------------------------


class World:
    """One kernel, one fs store `docs`, mounted at `self.mnt`."""

    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-fuse-test-")
        os.chmod(self.root, 0o755)
        self.kernels = []
        self.mounts = []
        self.kernel = self.add_kernel("alpha")
        self.kernel.start()
        self.kernel.ctl("store", "create", "docs", "--type", "fs")
        self.mount = self.add_mount(self.kernel, "docs", os.path.join(self.root, "mnt"))
        self.mount.start()
        self.mnt = self.mount.path

    def add_kernel(self, name, **kw):
        kernel = Kernel(self.args, os.path.join(self.root, name), name, **kw)
        self.kernels.append(kernel)
        return kernel

    def add_mount(self, kernel, store, path, extra=()):
        mount = Mount(self.args, kernel, store, path, extra)
        self.mounts.append(mount)
        return mount

    def scratch(self, name):
        """A local directory (not on the mount) for sources and copies out."""
        path = os.path.join(self.root, "local", name)
        os.makedirs(path, exist_ok=True)
        return path

    def logs(self):
        return "\n".join("== %s\n%s" % (p, tail(p)) for p in
                         [k.log_path for k in self.kernels] + [m.log_path for m in self.mounts])

    def close(self, ok):
        for mount in self.mounts:
            mount.stop()
        for kernel in self.kernels:
            kernel.stop()
        if ok and not os.environ.get("LATTICE_TEST_KEEP_DIRS"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print("test directory kept: %s" % self.root, file=sys.stderr)


class Mesh(World):
    """Kernels alpha and beta in one mesh, each reached by its peer through a Proxy the test
    can cut; an fs store `docs` made on alpha and replicated to beta; a mount on each
    (`self.a_mnt`, `self.b_mnt`)."""

    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-fuse-mesh-")
        os.chmod(self.root, 0o755)
        self.kernels = []
        self.mounts = []
        # Each node listens on an ephemeral port and advertises its proxy's address.
        self.proxy_a = Proxy(None)
        self.proxy_b = Proxy(None)
        self.a = self.add_kernel("alpha", listen="127.0.0.1:0", advertise=self.proxy_a.address)
        self.b = self.add_kernel("beta", listen="127.0.0.1:0", advertise=self.proxy_b.address)
        self.a.start()
        self.proxy_a.set_target(self.a.listen)
        self.b.start()
        self.proxy_b.set_target(self.b.listen)
        invite = self.a.ctl("peer", "invite").strip()
        check(invite, "peer invite printed no token")
        self.b.ctl("peer", "join", invite, "--name", "beta")
        wait_until(lambda: self.a.peers_connected() >= 1 and self.b.peers_connected() >= 1,
                   "alpha and beta to connect", MESH_DEADLINE)
        created = self.a.ctl("store", "create", "docs", "--type", "fs")
        self.store = created.split()[0]
        check(re.fullmatch(r"[0-9a-f-]{36}", self.store), "store create printed %r" % created)
        wait_until(lambda: self.b.has_store(self.store), "the fs store to reach beta",
                   MESH_DEADLINE)
        self.a_mount = self.add_mount(self.a, self.store, os.path.join(self.root, "a-mnt"))
        self.b_mount = self.add_mount(self.b, self.store, os.path.join(self.root, "b-mnt"))
        self.a_mount.start()
        self.b_mount.start()
        self.a_mnt, self.b_mnt = self.a_mount.path, self.b_mount.path

    def partition(self):
        self.proxy_a.partition()
        self.proxy_b.partition()
        wait_until(lambda: self.a.peers_connected() == 0 and self.b.peers_connected() == 0,
                   "alpha and beta to notice the cut", MESH_DEADLINE)

    def heal(self):
        self.proxy_a.heal()
        self.proxy_b.heal()
        wait_until(lambda: self.a.peers_connected() >= 1 and self.b.peers_connected() >= 1,
                   "alpha and beta to reconnect", MESH_DEADLINE)

    def sync(self):
        """Asks each node to reconcile the store with its peers now, and waits for it."""
        for kernel in (self.a, self.b):
            kernel.ctl("store", "sync", self.store, "--wait")

    def close(self, ok):
        super().close(ok)
        self.proxy_a.close()
        self.proxy_b.close()


def run_main(doc, scenarios, make_world):
    """Parses --kernel/--ctl/--fuse and a scenario name, runs it in a world made by
    `make_world(args)`, and returns the exit status (77 when it cannot run here)."""
    parser = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    for flag in ("--kernel", "--ctl", "--fuse"):
        parser.add_argument(flag, required=True)
    parser.add_argument("scenario", choices=sorted(scenarios))
    args = parser.parse_args()
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        print("skipped: FUSE tests run as root with /dev/fuse", file=sys.stderr)
        return SKIP
    world = None
    ok = False
    try:
        world = make_world(args)
        scenarios[args.scenario](world)
        ok = True
    except Skip as skip:
        print("skipped: %s" % skip, file=sys.stderr)
        return SKIP
    except TestFailure as failure:
        print("FAIL %s: %s" % (args.scenario, failure), file=sys.stderr)
        traceback.print_exc()
    except Exception:
        traceback.print_exc()
    finally:
        if world is not None:
            if not ok:
                print(world.logs(), file=sys.stderr)
            world.close(ok)
    return 0 if ok else 1
