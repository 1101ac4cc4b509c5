#!/usr/bin/env python3
"""The Debian package installed and run in a Debian 12 tree, as users meet it
(tests/package.cmake).

Usage: deb_container_test.py --install DEB_DIR ROOT
       deb_container_test.py --boot DEB_DIR ROOT

--install: unpacks a Debian 12 tree into ROOT from the cache (CACHE/bookworm.tar; CACHE is
  $LATTICE_TEST_CACHE, default /var/cache/lattice-test), making the cache first when it is
  missing (debootstrap from the host's Debian mirror, then the package's dependencies), then
  runs `apt-get install ./lattice_*.deb` in it as the README says, without a running systemd,
  and checks what postinst made: user and group lattice, /var/lib/lattice 0700
  lattice:lattice, /etc/lattice 0750 root:lattice, and the units where systemd finds them.

--boot: boots ROOT with `systemd-nspawn --boot --private-network` (nothing leaves the
  machine), enters it with nsenter, and checks with the real systemd:
  - `systemctl start lattice-kernel` returns once the kernel sent READY=1 (Type=notify): the
    unit is active and the socket exists the moment it returns;
  - `lattice-ctl status` works for a member of group lattice, and not for a user outside it;
  - the kernel keeps petting the watchdog (no restart over two intervals), and once stopped
    with SIGSTOP it is aborted and restarted by the watchdog;
  - lattice-irc@lobby.service takes its token from LoadCredential= and serves: a line sent by
    an IRC client is in the chat store's history; it cannot see the admin cookie;
  - lattice-web.service serves the packaged management page;
  - `systemctl stop lattice-kernel` ends every daemon the kernel's ServiceManager started,
    by the kernel's own hand (the stop succeeds without SIGKILL), and the PartOf= gateway;
  - the package installed again over itself restarts a running kernel, `apt-get remove`
    stops it, and purge keeps the node's identity in /var/lib/lattice.
  The unit's watchdog is shortened with a drop-in (WatchdogSec=6s) so the test takes seconds,
  not minutes. A machine that cannot boot the container (no systemd-nspawn, not root, or
  systemd in the container never reaches `running`) makes the test skip (exit 77), printing
  the container's console as evidence.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import check, failures, verdict  # noqa: E402
from deb_package_test import package_names  # noqa: E402

SKIP = 77
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
# systemd as PID 1 of the container, and D-Bus for systemctl's calls to it.
BASE_PACKAGES = "systemd,systemd-sysv,dbus"
WATCHDOG_S = 6
SOCKET = "/run/lattice/kernel.sock"
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def run(argv, timeout=120, check_rc=False, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)
    if check_rc and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


def missing_tools(tools):
    return [t for t in tools if shutil.which(t) is None]


# --- install -----------------------------------------------------------------------------


def in_tree(root, argv, timeout=600, binds=()):
    """Runs argv in the tree, not booted, with the host's network (for apt)."""
    nspawn = ["systemd-nspawn", "--quiet", "--keep-unit", "--register=no", "-D", root,
              "--setenv=DEBIAN_FRONTEND=noninteractive", f"--setenv=PATH={PATH}"]
    nspawn += [f"--bind-ro={b}" for b in binds]
    return run(nspawn + argv, timeout=timeout)


def make_cache(cache, deb):
    """debootstrap, then the package's dependencies, so later runs install offline."""
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bookworm-", dir=cache)
    try:
        tree = os.path.join(work, "root")
        start = time.monotonic()
        run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", SUITE, tree,
             MIRROR], timeout=1200, check_rc=True)
        depends = run(["dpkg-deb", "-f", deb, "Depends"], check_rc=True).stdout
        names = [n for n in package_names(depends) if n]
        for argv in (["apt-get", "update", "-qq"],
                     ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + names,
                     ["apt-get", "clean"]):
            proc = in_tree(tree, argv)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} in the tree failed:\n"
                                   f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        tar = os.path.join(work, "bookworm.tar")
        # debootstrap mounts proc (and at times sys) in the tree and has been seen to leave
        # it mounted: the archive keeps to the tree's own file system.
        run(["tar", "-C", tree, "--numeric-owner", "--one-file-system", "-cf", tar, "."],
            timeout=600, check_rc=True)
        os.replace(tar, os.path.join(cache, "bookworm.tar"))
        print(f"made {cache}/bookworm.tar in {time.monotonic() - start:.0f} s", flush=True)
    finally:
        unmount_below(work)
        shutil.rmtree(work, ignore_errors=True)


def unmount_below(path):
    """Detaches whatever is still mounted inside `path`, deepest first, so it can be removed."""
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    for point in sorted((p for p in points if p.startswith(path + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


def owner_names(root, path):
    """`stat` on the host names the host's users; the tree's own passwd names them here."""
    proc = in_tree(root, ["stat", "-c", "%a %U %G %F", path], timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else "missing"


def install(deb_dir, root):
    missing = missing_tools(["debootstrap", "systemd-nspawn", "dpkg-deb", "tar"])
    if missing or os.geteuid() != 0:
        print(f"skip: needs root and {', '.join(missing) or 'nothing else'} "
              "(Debian packages debootstrap, systemd-container)")
        return SKIP
    debs = glob.glob(os.path.join(deb_dir, "lattice_*.deb"))
    if not check(len(debs) == 1, f"one lattice_*.deb in {deb_dir} (from deb_package_contents)"):
        return 1
    deb = debs[0]
    cache = os.environ.get("LATTICE_TEST_CACHE", "/var/cache/lattice-test")
    tar = os.path.join(cache, "bookworm.tar")
    if not os.path.exists(tar):
        print(f"{tar} is missing: making it (debootstrap, a few minutes)", flush=True)
        make_cache(cache, deb)

    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    start = time.monotonic()
    run(["tar", "-C", root, "--numeric-owner", "-xf", tar], timeout=600, check_rc=True)
    print(f"unpacked {tar} in {time.monotonic() - start:.1f} s", flush=True)

    name = os.path.basename(deb)
    # The README's install path; apt fetches only dependencies the cache lacks.
    proc = in_tree(root, ["apt-get", "install", "-y", "--no-install-recommends",
                          f"/mnt/package/{name}"], binds=[f"{deb_dir}:/mnt/package"])
    print(proc.stdout[-3000:] + proc.stderr[-3000:])
    if not check(proc.returncode == 0, f"apt-get install ./{name} succeeds in a Debian 12 tree"):
        return 1
    proc = in_tree(root, ["getent", "passwd", "lattice"], timeout=60)
    fields = proc.stdout.strip().split(":")
    check(len(fields) == 7 and fields[5] == "/var/lib/lattice" and fields[6].endswith("nologin"),
          f"postinst made the system user lattice ({proc.stdout.strip()})")
    check(in_tree(root, ["getent", "group", "lattice"], timeout=60).returncode == 0,
          "postinst made the group lattice")
    for path, expected in (("/var/lib/lattice", "700 lattice lattice directory"),
                           ("/etc/lattice", "750 root lattice directory")):
        got = owner_names(root, path)
        check(got == expected, f"{path} is {expected} ({got})")
    for unit in ("lattice-kernel.service", "lattice-irc@.service", "lattice-web.service"):
        check(os.path.exists(f"{root}/usr/lib/systemd/system/{unit}"),
              f"{unit} is in /usr/lib/systemd/system")
    return 0


# --- boot --------------------------------------------------------------------------------


class Container:
    """A booted systemd-nspawn container, entered with nsenter."""

    def __init__(self, root, deb_dir, log_path):
        self.root = root
        self.log_path = log_path
        self.log = open(log_path, "w", encoding="utf-8")
        self.machine = f"lattice-test-{os.getpid()}"
        # --keep-unit --register=no: the host's PID 1 is not systemd, so nspawn must neither
        # ask it for a scope nor register with machined. --private-network: only a loopback.
        self.argv = ["systemd-nspawn", "--keep-unit", "--register=no", "--private-network",
                     "--boot", "-D", root, f"--machine={self.machine}",
                     f"--bind-ro={deb_dir}:/mnt/package"]
        print("running: " + " ".join(self.argv), flush=True)
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.init_pid = None

    def console(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-6000:]

    def find_init(self):
        """The host pid of the container's PID 1 (pid 1 in its own namespace)."""
        for pid in descendants(self.process.pid):
            if ns_pid(pid) == 1:
                return pid
        return None

    def wait_booted(self, deadline):
        state = ""
        while time.monotonic() < deadline and self.process.poll() is None:
            self.init_pid = self.init_pid or self.find_init()
            if self.init_pid is not None:
                state = self.sh("systemctl is-system-running", timeout=10).stdout.strip()
                if state in ("running", "degraded"):
                    return state
            time.sleep(0.5)
        return None

    def sh(self, script, timeout=60, shell="sh"):
        """Runs a shell script inside, as root, in every namespace of the container."""
        argv = ["nsenter", "-t", str(self.init_pid), "-a", "env", "-i", f"PATH={PATH}",
                "LANG=C.UTF-8", shell, "-c", script]
        try:
            return run(argv, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", f"timed out after {timeout} s")

    def show(self, unit, prop):
        return self.sh(f"systemctl show -P {prop} {unit}", timeout=20).stdout.strip()

    def stop(self):
        if self.process.poll() is None:
            # nspawn turns SIGTERM into a clean poweroff of the container's systemd.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if self.init_pid is not None:
                    os.kill(self.init_pid, signal.SIGKILL)  # ends its whole pid namespace
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()


def children(pid):
    """Children of every thread of pid (a thread that forks is their parent)."""
    found = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task, encoding="utf-8") as f:
                found += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return found


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def ns_pid(pid):
    """The pid in the innermost pid namespace, from /proc/PID/status NSpid."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return None


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def alive(pid):
    return os.path.exists(f"/proc/{pid}") and comm(pid) != ""


def poll(predicate, deadline, interval=0.25):
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def ctl(args):
    return f"lattice-ctl --socket {SOCKET} {args}"


def check_start(c):
    drop_in = ("mkdir -p /etc/systemd/system/lattice-kernel.service.d && "
               "printf '[Service]\\nWatchdogSec=%ss\\nTimeoutAbortSec=5s\\nRestartSec=1s\\n' "
               f"{WATCHDOG_S} > /etc/systemd/system/lattice-kernel.service.d/test.conf && "
               "systemctl daemon-reload")
    c.sh(drop_in)
    # `systemctl start` of a Type=notify unit returns once READY=1 arrived; check the socket
    # in the same breath, before anything could have waited for it.
    proc = c.sh(f"systemctl start lattice-kernel && test -S {SOCKET} && echo socket-ready",
                timeout=90)
    ok = check(proc.returncode == 0 and "socket-ready" in proc.stdout,
               f"`systemctl start lattice-kernel` returns with {SOCKET} in place "
               f"({proc.stderr.strip()})")
    state = (c.show("lattice-kernel", "ActiveState"), c.show("lattice-kernel", "SubState"))
    check(state == ("active", "running"), f"lattice-kernel is active/running ({state})")
    check(c.show("lattice-kernel", "Type") == "notify", "the unit is Type=notify: active "
          "means the kernel sent READY=1")
    check(c.show("lattice-kernel", "StatusErrno") == "0", "no failure status was notified")
    if not ok:
        print(c.sh("journalctl -u lattice-kernel --no-pager | tail -40").stdout)
    return ok


def check_group_member(c, first=True):
    if first:
        c.sh("useradd --create-home alice && usermod -aG lattice alice && "
             "useradd --create-home bob")
    cookie = c.sh("stat -c '%a %U %G' /run/lattice/admin.cookie").stdout.strip()
    check(cookie == "640 lattice lattice", f"the admin cookie is 0640 lattice:lattice ({cookie})")
    proc = c.sh("runuser -u alice -- " + ctl("status"), timeout=30)
    check(proc.returncode == 0 and "node id:" in proc.stdout,
          "`lattice-ctl status` works for alice, a member of group lattice "
          f"({proc.stderr.strip()})")
    proc = c.sh("runuser -u bob -- " + ctl("status"), timeout=30)
    check(proc.returncode != 0, "and not for bob, who is not in the group "
          f"({proc.stderr.strip()})")


def check_irc(c):
    setup = (ctl("store create lobby --type chat") + " >/dev/null && "
             "install -d -m 0700 /etc/lattice/credentials && " +
             ctl("token create irc-lobby --store lobby --rights read,write,watch") +
             " | sed -n 's/^token: //p' > /etc/lattice/credentials/lattice-irc@lobby.token && "
             "chmod 0600 /etc/lattice/credentials/lattice-irc@lobby.token && "
             "test -s /etc/lattice/credentials/lattice-irc@lobby.token && "
             "systemctl start lattice-irc@lobby")
    proc = c.sh(setup, timeout=60)
    if not check(proc.returncode == 0, "a chat store, a token in /etc/lattice/credentials and "
                 f"`systemctl start lattice-irc@lobby` ({proc.stderr.strip()})"):
        return
    # An IRC client in bash (/dev/tcp): register, join, say a line, quit; read until the
    # server closes.
    client = ("exec 3<>/dev/tcp/127.0.0.1/6667 || exit 1; "
              "printf 'NICK carol\\r\\nUSER carol 0 * :Carol\\r\\nJOIN #general\\r\\n"
              "PRIVMSG #general :hello from systemd\\r\\nQUIT :bye\\r\\n' >&3; "
              "timeout 10 cat <&3")
    said = poll(lambda: (lambda p: p if p.returncode == 0 and " 001 " in p.stdout else None)(
        c.sh(client, timeout=20, shell="bash")), time.monotonic() + 30, interval=0.5)
    check(said is not None, "lattice-irc@lobby welcomes an IRC client on 127.0.0.1:6667")
    history = poll(lambda: "hello from systemd" in c.sh(
        ctl("chat history lobby '#general'"), timeout=20).stdout, time.monotonic() + 20)
    check(history, "the line the client said is in the store's history (the gateway reached "
          "the kernel with the token systemd handed it)")
    same = c.sh("cmp /etc/lattice/credentials/lattice-irc@lobby.token "
                "/run/credentials/lattice-irc@lobby.service/token").returncode == 0
    check(same, "systemd handed the gateway the token file as its credential")
    gateway = c.show("lattice-irc@lobby", "MainPID")
    hidden = c.sh(f"nsenter -t {gateway} -m stat -c %a /run/lattice/admin.cookie").stdout.strip()
    check(hidden == "0", f"the gateway cannot see the admin cookie (mode {hidden!r} in its "
          "mount namespace: InaccessiblePaths=)")
    if not history:
        print(c.sh("journalctl -u lattice-irc@lobby --no-pager | tail -30").stdout)


def http_get(c, path):
    """A GET to lattice-web's default address, in bash (/dev/tcp); the whole response."""
    request = ("exec 3<>/dev/tcp/127.0.0.1/8470 || exit 1; "
               f"printf 'GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3; "
               "timeout 10 cat <&3")
    return c.sh(request, timeout=20, shell="bash").stdout


def check_web(c):
    setup = (ctl("token create web --store lobby --rights read") +
             " | sed -n 's/^token: //p' > /etc/lattice/credentials/lattice-web.token && "
             "chmod 0600 /etc/lattice/credentials/lattice-web.token && "
             "systemctl start lattice-web")
    proc = c.sh(setup, timeout=60)
    if not check(proc.returncode == 0, "a token in /etc/lattice/credentials and "
                 f"`systemctl start lattice-web` ({proc.stderr.strip()})"):
        return
    page = poll(lambda: (lambda r: r if r.startswith("HTTP/1.1 200") else None)(
        http_get(c, "/")), time.monotonic() + 30, interval=0.5)
    check(page is not None and "assets/app.js" in page,
          "lattice-web.service serves the packaged management page on 127.0.0.1:8470")
    script = http_get(c, "/assets/app.js")
    check(script.startswith("HTTP/1.1 200"), "and its script (/usr/share/lattice/web/assets)")
    if page is None:
        print(c.sh("journalctl -u lattice-web --no-pager | tail -30").stdout)


def check_upgrade_and_removal(c):
    """dpkg -i of the package over itself restarts a running kernel (postinst), apt-get
    remove stops it (prerm), and purge keeps the node's identity."""
    c.sh("systemctl start lattice-kernel", timeout=60)
    before = kernel_pid(c)
    proc = c.sh("dpkg -i /mnt/package/lattice_*.deb", timeout=120)
    check(proc.returncode == 0, f"dpkg -i over the installed package ({proc.stderr.strip()})")
    after = kernel_pid(c)
    check(before is not None and after not in (None, before) and
          c.show("lattice-kernel", "ActiveState") == "active",
          f"the upgrade restarted the running kernel (pid {before} -> {after})")
    proc = c.sh("apt-get remove -y lattice", timeout=120)
    check(proc.returncode == 0, f"apt-get remove lattice ({proc.stderr.strip()[-300:]})")
    host_after = host_pid_of(c, after or -1)
    check(c.show("lattice-kernel", "ActiveState") == "inactive" and
          (host_after is None or not alive(host_after)), "removal stopped the kernel")
    check(c.sh("test -e /usr/lib/systemd/system/lattice-kernel.service").returncode != 0,
          "and removed its unit")
    proc = c.sh("apt-get purge -y lattice && test -s /var/lib/lattice/identity.key", timeout=120)
    check(proc.returncode == 0, "purge keeps /var/lib/lattice/identity.key, the node's identity")


def kernel_pid(c):
    pid = c.show("lattice-kernel", "MainPID")
    return int(pid) if pid.isdigit() and pid != "0" else None


def host_pid_of(c, container_pid):
    for pid in descendants(c.init_pid):
        if ns_pid(pid) == container_pid:
            return pid
    return None


def check_watchdog(c, started_at):
    # The kernel has been up since started_at; under a watchdog of WATCHDOG_S it must not
    # have been restarted in two intervals.
    left = started_at + 2 * WATCHDOG_S + 1 - time.monotonic()
    if left > 0:
        time.sleep(left)  # the interval under test, not a wait for an event
    check(c.show("lattice-kernel", "NRestarts") == "0",
          f"the kernel pets the watchdog: no restart in {2 * WATCHDOG_S + 1} s "
          f"(WatchdogSec={WATCHDOG_S}s)")
    before = kernel_pid(c)
    gateway_run = c.show("lattice-irc@lobby", "InvocationID")
    if not check(before is not None, "the kernel has a main pid"):
        return
    c.sh(f"kill -STOP {before}")
    stopped_at = time.monotonic()
    restarted = poll(lambda: kernel_pid(c) not in (None, before)
                     and c.show("lattice-kernel", "ActiveState") == "active",
                     time.monotonic() + 4 * WATCHDOG_S + 40, interval=0.5)
    check(restarted, f"the watchdog restarts a kernel stopped with SIGSTOP "
          f"({time.monotonic() - stopped_at:.0f} s; pid {before} -> {kernel_pid(c)})")
    journal = c.sh("journalctl -u lattice-kernel --no-pager").stdout
    check("Watchdog timeout" in journal, "the journal says the watchdog fired")
    check(c.show("lattice-kernel", "NRestarts") == "1", "exactly one restart")
    poll(lambda: c.sh(ctl("status"), timeout=20).returncode == 0, time.monotonic() + 30)
    check(c.show("lattice-irc@lobby", "InvocationID") != gateway_run and
          c.show("lattice-irc@lobby", "ActiveState") == "active",
          "the gateway was restarted with the kernel (PartOf=), so it never ran beside the "
          "new cookie")
    check_group_member(c, first=False)


def check_stop(c):
    setup = (ctl("service consent lattice.irc-gateway always") + " && " +
             ctl("service declare lattice.irc-gateway --store lobby --local --set port=0"))
    proc = c.sh(setup, timeout=30)
    if not check(proc.returncode == 0, f"the kernel is asked to run an IRC gateway itself "
                 f"({proc.stdout.strip()[-300:]} {proc.stderr.strip()})"):
        return
    main = host_pid_of(c, kernel_pid(c) or -1)

    def kernel_daemons():
        return [p for p in descendants(main) if comm(p) == "lattice-irc"] if main else []

    daemons = poll(kernel_daemons, time.monotonic() + 30)
    if not check(bool(daemons), f"the kernel's ServiceManager started lattice-irc ({daemons})"):
        print(c.sh(ctl("service list")).stdout[-2000:])
        return
    gateway = host_pid_of(c, int(c.show("lattice-irc@lobby", "MainPID") or 0) or -1)
    since = c.sh("date +%s").stdout.strip()
    start = time.monotonic()
    proc = c.sh("systemctl stop lattice-kernel", timeout=60)
    took = time.monotonic() - start
    check(proc.returncode == 0, f"`systemctl stop lattice-kernel` returns ({took:.1f} s)")
    check(c.show("lattice-kernel", "Result") == "success",
          "the stop succeeded without systemd's SIGKILL (Result=success, not timeout)")
    left = [p for p in daemons + [main] if alive(p)]
    check(not left, f"every daemon the kernel started has ended, and the kernel ({left})")
    check(c.show("lattice-kernel", "ActiveState") == "inactive", "the kernel is inactive")
    check(c.show("lattice-irc@lobby", "ActiveState") == "inactive" and
          (gateway is None or not alive(gateway)),
          "lattice-irc@lobby stopped with it (PartOf=)")
    journal = c.sh(f"journalctl -u lattice-kernel --no-pager --since @{since}").stdout
    check("SIGKILL" not in journal, "systemd killed nothing with SIGKILL while stopping")


def boot(deb_dir, root):
    missing = missing_tools(["systemd-nspawn", "nsenter"])
    if missing or os.geteuid() != 0:
        print(f"skip: needs root and {', '.join(missing) or 'nothing else'} "
              "(Debian package systemd-container)")
        return SKIP
    if not os.path.exists(os.path.join(root, "usr/bin/lattice-kernel")):
        check(False, f"{root} holds the installed package (from deb_package_install)")
        return 1
    c = Container(root, deb_dir, root + ".console.log")
    try:
        start = time.monotonic()
        state = c.wait_booted(time.monotonic() + 90)
        if state is None:
            print("skip: the container did not boot: this machine cannot run systemd in "
                  f"systemd-nspawn. Command: {' '.join(c.argv)}\nconsole:\n{c.console()}")
            return SKIP
        print(f"booted in {time.monotonic() - start:.1f} s (systemd says {state})", flush=True)
        if check_start(c):
            started_at = time.monotonic()
            check_group_member(c)
            check_irc(c)
            check_web(c)
            check_watchdog(c, started_at)
            check_stop(c)
            check_upgrade_and_removal(c)
    finally:
        c.stop()
    if failures:
        print("console:\n" + c.console()[-3000:])
    return 0


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--install":
        code = install(args[1], os.path.abspath(args[2]))
    elif len(args) == 3 and args[0] == "--boot":
        code = boot(args[1], os.path.abspath(args[2]))
    else:
        print(__doc__)
        return 2
    return verdict() if code == 0 else code


if __name__ == "__main__":
    sys.exit(main())
