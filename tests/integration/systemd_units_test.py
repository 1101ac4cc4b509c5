#!/usr/bin/env python3
"""Checks the files in deploy/systemd/ with systemd's own tools.

Usage: systemd_units_test.py DEPLOY_DIR [KERNEL_BINARY]
       systemd_units_test.py --lifecycle DEPLOY_DIR KERNEL_BINARY

- lattice-irc@.service: `systemd-analyze verify` of an instance (lattice-irc@lobby) of a copy
  whose ExecStart names an existing binary; its token comes from LoadCredential=, it runs
  as a user of its own in group lattice, and it keeps the kernel's sandbox.
- lattice-web.service: `systemd-analyze verify` of a copy whose ExecStart names an existing
  binary; it listens on loopback only, takes its token from LoadCredential=, runs as a user
  of its own in group lattice, keeps the kernel's sandbox and passes `security --offline`.
- lattice-kernel.service: `systemd-analyze verify` on a copy whose ExecStart names
  KERNEL_BINARY (verify insists the binary exists; /bin/true stands in when none is given).
  Any diagnostic about the unit fails the test, because verify exits 0 on unknown keys and
  unparsable values. A copy with an injected unknown key proves verify still reports them.
  `systemd-analyze security --offline` guards the sandbox against quiet loosening.
- lattice.sysusers: applied with `systemd-sysusers --root` to an empty temporary root.
- lattice.tmpfiles: applied with `systemd-tmpfiles --root --create` to that root, then modes
  and owners are checked (as root; otherwise parsed only, as chown needs root).
- kernel.toml.example: parsed as TOML; data_dir, socket, name and log_level are strings.
- The files agree: directory modes, the user, the paths in ExecStart and the example config.

systemd is not PID 1 here and need not be: nothing is started. Exits 77 (skipped) when
systemd-analyze is not installed (Debian package `systemd`).

--lifecycle plays systemd for the built kernel instead: it runs ExecStart's command line
(paths moved to a temporary directory, --config kernel.toml.example added) with
NOTIFY_SOCKET and WATCHDOG_USEC pointing at a socket of its own, and checks the Type=notify
contract: READY=1 from the main process once the kernel socket exists, WATCHDOG=1 at least
every interval, and on SIGTERM STOPPING=1 and exit status 0 within TimeoutStopSec.
"""

import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import check, failures, verdict  # noqa: E402

SKIP = 77
UNIT = "lattice-kernel.service"
INSTALLED_BINARY = "/usr/local/bin/lattice-kernel"
# systemd-analyze security reports exposure as 0.0-10.0; --threshold takes tenths of that.
MAX_EXPOSURE_TENTHS = 25


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def indented(lines):
    return "".join("\n      " + line for line in lines)


def diagnostics_about(output, name):
    return [line for line in output.splitlines() if name in line]


def parse_unit(text):
    """Returns {section: [(key, value), ...]}; enough for our own, simple unit file."""
    sections, current = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
        elif "=" in line and current is not None:
            key, value = line.split("=", 1)
            sections[current].append((key.strip(), value.strip()))
    return sections


def last(sections, section, key):
    values = [v for k, v in sections.get(section, []) if k == key]
    return values[-1] if values else None


def flag_value(argv, flag):
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def write_unit_copy(directory, text, binary):
    text = re.sub(r"^ExecStart=\S+", "ExecStart=" + binary, text, count=1, flags=re.M)
    path = os.path.join(directory, UNIT)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def check_unit(deploy, binary, work):
    with open(os.path.join(deploy, UNIT), encoding="utf-8") as f:
        text = f.read()
    unit = parse_unit(text)

    exec_start = (last(unit, "Service", "ExecStart") or "").split()
    check(exec_start[:1] == [INSTALLED_BINARY],
          f"ExecStart runs {INSTALLED_BINARY}, where `cmake --install` puts it")

    good_dir = os.path.join(work, "unit")
    os.mkdir(good_dir)
    copy = write_unit_copy(good_dir, text, binary)
    rc, out = run(["systemd-analyze", "verify", "--man=no", copy])
    problems = diagnostics_about(out, UNIT) or (out.splitlines() if rc else [])
    check(rc == 0 and not problems,
          f"systemd-analyze verify is clean (ExecStart={binary})" + indented(problems))

    # Verify exits 0 on unknown keys, so the check above relies on its diagnostics; prove they
    # still appear on this systemd version.
    bad_dir = os.path.join(work, "typo")
    os.mkdir(bad_dir)
    bad = write_unit_copy(bad_dir, text.replace("[Service]\n", "[Service]\nFoo=bar\n", 1), binary)
    rc, out = run(["systemd-analyze", "verify", "--man=no", bad])
    check(any("Foo" in line for line in diagnostics_about(out, UNIT)),
          "systemd-analyze verify reports an injected unknown key (Foo=bar)")

    rc, out = run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                   f"--threshold={MAX_EXPOSURE_TENTHS}", copy])
    level = re.search(r"Overall exposure level for \S+: (\S+)", out)
    if level is None:
        print("note: systemd-analyze security --offline is unavailable; exposure not checked")
    else:
        check(rc == 0, f"sandbox exposure {level.group(1)} is at most "
                       f"{MAX_EXPOSURE_TENTHS / 10} (systemd-analyze security)")

    # The contract with lattice-kernel's code (sys/notify.h) and with the other files here.
    expected = {"Type": "notify", "NotifyAccess": "main", "User": "lattice",
                "Group": "lattice", "StateDirectory": "lattice", "RuntimeDirectory": "lattice",
                "ConfigurationDirectory": "lattice", "KillMode": "mixed"}
    for key, value in expected.items():
        check(last(unit, "Service", key) == value, f"[Service] {key}={value}")
    check(last(unit, "Service", "ExecStartPost") == "+/bin/chmod 0640 /run/lattice/admin.cookie",
          "once ready, the group may read the admin cookie (ExecStartPost=+/bin/chmod 0640)")
    check(last(unit, "Service", "WatchdogSec") not in (None, "", "0", "infinity"),
          "[Service] WatchdogSec is set (the kernel feeds it)")
    check(last(unit, "Service", "MemoryMax") not in (None, "", "infinity"),
          "[Service] MemoryMax is set (a flood of clients ends in a restart, not the OOM killer)")
    for key in ("StartLimitIntervalSec", "StartLimitBurst"):
        check(last(unit, "Service", key) is None and last(unit, "Unit", key) is not None,
              f"{key} is in [Unit], where systemd reads it")
    return unit, exec_start


TEMPLATE = "lattice-irc@.service"
INSTALLED_IRC = "/usr/local/bin/lattice-irc"


def check_template(deploy, binary, kernel_unit, work):
    """lattice-irc@.service, verified as the instance lattice-irc@lobby.service."""
    with open(os.path.join(deploy, TEMPLATE), encoding="utf-8") as f:
        text = f.read()
    unit = parse_unit(text)
    exec_start = (last(unit, "Service", "ExecStart") or "").split()
    check(exec_start[:1] == [INSTALLED_IRC], f"{TEMPLATE} runs {INSTALLED_IRC}")
    check("%i" in exec_start and flag_value(exec_start, "--store") == "%i",
          f"{TEMPLATE} serves the instance's store (--store %i)")
    check(flag_value(exec_start, "--socket") == "/run/lattice/kernel.sock",
          f"{TEMPLATE} dials the kernel unit's socket")
    credential = last(unit, "Service", "LoadCredential") or ""
    check(credential.startswith("token:/etc/lattice/"),
          f"{TEMPLATE} reads its token with LoadCredential=token:/etc/lattice/... ({credential})")
    check(not any(k == "Environment" and "LATTICE_TOKEN" in v for k, v in unit.get("Service", [])),
          f"{TEMPLATE} puts no token in its environment")
    check(last(unit, "Service", "DynamicUser") == "yes" and
          last(unit, "Service", "SupplementaryGroups") == "lattice",
          f"{TEMPLATE} runs as a user of its own, in group lattice for the socket")
    check(last(unit, "Unit", "PartOf") == UNIT, f"{TEMPLATE} is PartOf={UNIT}")
    check(last(unit, "Service", "InaccessiblePaths") == "-/run/lattice/admin.cookie",
          f"{TEMPLATE} hides the admin cookie, which group lattice may read")
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges",
                "RestrictAddressFamilies", "SystemCallFilter", "CapabilityBoundingSet",
                "MemoryDenyWriteExecute", "RestrictNamespaces"):
        check(last(unit, "Service", key) == last(kernel_unit, "Service", key),
              f"{TEMPLATE} {key}= as in {UNIT} ({last(unit, 'Service', key)})")
    stop = seconds(last(unit, "Service", "TimeoutStopSec"))
    check(0 < stop <= seconds(last(kernel_unit, "Service", "TimeoutStopSec")),
          f"{TEMPLATE} TimeoutStopSec={stop:g}s is at most the kernel's")

    directory = os.path.join(work, "template")
    os.mkdir(directory)
    copy = os.path.join(directory, TEMPLATE)
    good = re.sub(r"^ExecStart=\S+", "ExecStart=" + binary, text, count=1, flags=re.M)
    with open(copy, "w", encoding="utf-8") as f:
        f.write(good)
    instance = os.path.join(directory, "lattice-irc@lobby.service")
    rc, out = run(["systemd-analyze", "verify", "--man=no", instance])
    problems = diagnostics_about(out, "lattice-irc@") or (out.splitlines() if rc else [])
    check(rc == 0 and not problems,
          f"systemd-analyze verify lattice-irc@lobby.service is clean" + indented(problems))
    with open(copy, "w", encoding="utf-8") as f:
        f.write(re.sub(r"^\[Service\]$", "[Service]\nFoo=bar", good, count=1, flags=re.M))
    rc, out = run(["systemd-analyze", "verify", "--man=no", instance])
    check(any("Foo" in line for line in diagnostics_about(out, "lattice-irc@")),
          "systemd-analyze verify reports an injected unknown key in the template")


WEB_UNIT = "lattice-web.service"
INSTALLED_WEB = "/usr/local/bin/lattice-web"


def check_web_unit(deploy, binary, kernel_unit, work):
    """lattice-web.service: verified, loopback only, its token from a credential, the
    kernel's sandbox, and an exposure no worse than the kernel's."""
    with open(os.path.join(deploy, WEB_UNIT), encoding="utf-8") as f:
        text = f.read()
    unit = parse_unit(text)
    exec_start = (last(unit, "Service", "ExecStart") or "").split()
    check(exec_start[:1] == [INSTALLED_WEB], f"{WEB_UNIT} runs {INSTALLED_WEB}")
    check(flag_value(exec_start, "--socket") == "/run/lattice/kernel.sock",
          f"{WEB_UNIT} dials the kernel unit's socket")
    listen = flag_value(exec_start, "--listen") or ""
    check(listen.startswith("127.0.0.1:"), f"{WEB_UNIT} listens on loopback only ({listen})")
    credential = last(unit, "Service", "LoadCredential") or ""
    check(credential.startswith("token:/etc/lattice/"),
          f"{WEB_UNIT} reads its token with LoadCredential=token:/etc/lattice/... ({credential})")
    check(not any(k == "Environment" and "LATTICE_TOKEN" in v for k, v in unit.get("Service", [])),
          f"{WEB_UNIT} puts no token in its environment")
    check(last(unit, "Service", "DynamicUser") == "yes" and
          last(unit, "Service", "SupplementaryGroups") == "lattice",
          f"{WEB_UNIT} runs as a user of its own, in group lattice for the socket")
    check(last(unit, "Unit", "PartOf") == UNIT, f"{WEB_UNIT} is PartOf={UNIT}")
    check(last(unit, "Service", "InaccessiblePaths") == "-/run/lattice/admin.cookie",
          f"{WEB_UNIT} hides the admin cookie, which group lattice may read")
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges",
                "RestrictAddressFamilies", "SystemCallFilter", "CapabilityBoundingSet",
                "MemoryDenyWriteExecute", "RestrictNamespaces"):
        check(last(unit, "Service", key) == last(kernel_unit, "Service", key),
              f"{WEB_UNIT} {key}= as in {UNIT} ({last(unit, 'Service', key)})")
    check(last(unit, "Service", "MemoryMax") not in (None, "", "infinity"),
          f"{WEB_UNIT} MemoryMax is set")
    stop = seconds(last(unit, "Service", "TimeoutStopSec"))
    check(0 < stop <= seconds(last(kernel_unit, "Service", "TimeoutStopSec")),
          f"{WEB_UNIT} TimeoutStopSec={stop:g}s is at most the kernel's")

    directory = os.path.join(work, "web")
    os.mkdir(directory)
    copy = os.path.join(directory, WEB_UNIT)
    good = re.sub(r"^ExecStart=\S+", "ExecStart=" + binary, text, count=1, flags=re.M)
    with open(copy, "w", encoding="utf-8") as f:
        f.write(good)
    rc, out = run(["systemd-analyze", "verify", "--man=no", copy])
    problems = diagnostics_about(out, WEB_UNIT) or (out.splitlines() if rc else [])
    check(rc == 0 and not problems, f"systemd-analyze verify {WEB_UNIT} is clean" + indented(problems))
    rc, out = run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                   f"--threshold={MAX_EXPOSURE_TENTHS}", copy])
    level = re.search(r"Overall exposure level for \S+: (\S+)", out)
    if level is not None:
        check(rc == 0, f"{WEB_UNIT} sandbox exposure {level.group(1)} is at most "
                       f"{MAX_EXPOSURE_TENTHS / 10} (systemd-analyze security)")
    with open(copy, "w", encoding="utf-8") as f:
        f.write(re.sub(r"^\[Service\]$", "[Service]\nFoo=bar", good, count=1, flags=re.M))
    rc, out = run(["systemd-analyze", "verify", "--man=no", copy])
    check(any("Foo" in line for line in diagnostics_about(out, WEB_UNIT)),
          f"systemd-analyze verify reports an injected unknown key in {WEB_UNIT}")


def check_kernel_stops_daemons(unit):
    """The kernel stops its own daemons on SIGTERM within the unit's stop timeout."""
    check(last(unit, "Service", "KillMode") == "mixed",
          "KillMode=mixed: SIGTERM to the kernel alone, which stops its daemons itself")
    stop = seconds(last(unit, "Service", "TimeoutStopSec"))
    # services/service_limits.h: kMaxStopTimeoutS, the longest a daemon may take to stop.
    check(stop > 20, f"TimeoutStopSec={stop:g}s exceeds the longest daemon stop timeout (20 s)")


def database_entry(root, database, name):
    """The fields of `name` in <root>/etc/<database> (passwd, group), or None."""
    try:
        with open(os.path.join(root, "etc", database), encoding="utf-8") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == name:
                    return fields
    except FileNotFoundError:
        pass
    return None


def check_sysusers_and_tmpfiles(deploy, unit, work):
    sysusers = os.path.join(deploy, "lattice.sysusers")
    tmpfiles = os.path.join(deploy, "lattice.tmpfiles")
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "etc"))

    # Paths are given absolute: with --root, relative ones are looked up inside the root.
    rc, out = run(["systemd-sysusers", f"--root={root}", sysusers])
    problems = diagnostics_about(out, "lattice.sysusers") or (out.splitlines() if rc else [])
    check(rc == 0 and not problems, "systemd-sysusers applies lattice.sysusers" + indented(problems))
    user = database_entry(root, "passwd", "lattice")
    if check(user is not None, "sysusers creates user lattice"):
        check(user[5] == "/var/lib/lattice", f"user lattice has home /var/lib/lattice ({user[5]})")
        check(user[6].endswith("nologin"), f"user lattice cannot log in (shell {user[6]})")
    group = database_entry(root, "group", "lattice")
    gid = int(group[2]) if group else None
    check(gid is not None, "sysusers creates group lattice")

    # tmpfiles reads users from the root's /etc, so this also proves the two files agree.
    as_root = os.geteuid() == 0
    action = "--create" if as_root else "--remove"  # --remove of plain `d` lines only parses
    rc, out = run(["systemd-tmpfiles", f"--root={root}", action, tmpfiles])
    problems = diagnostics_about(out, "lattice.tmpfiles") or (out.splitlines() if rc else [])
    check(rc == 0 and not problems,
          f"systemd-tmpfiles {action} accepts lattice.tmpfiles" + indented(problems))

    expected = {  # path: (mode, owner, group, directive in the unit that must agree)
        "/var/lib/lattice": (0o700, "lattice", "lattice", "StateDirectoryMode"),
        "/etc/lattice": (0o750, "root", "lattice", "ConfigurationDirectoryMode"),
    }
    for path, (mode, owner, group, directive) in expected.items():
        unit_mode = last(unit, "Service", directive)
        check(unit_mode is not None and int(unit_mode, 8) == mode,
              f"{directive}={unit_mode} matches tmpfiles' {oct(mode)} for {path}")
        if not as_root:
            continue
        try:
            st = os.stat(root + path)
        except FileNotFoundError:
            check(False, f"tmpfiles creates {path}")
            continue
        uid = 0 if owner == "root" else int(user[2]) if user else None
        check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode
              and st.st_uid == uid and st.st_gid == gid,
              f"{path} is a directory {oct(mode)} {owner}:{group} "
              f"(got {oct(stat.S_IMODE(st.st_mode))} {st.st_uid}:{st.st_gid})")
    if not as_root:
        print("note: not root, so tmpfiles was parsed but not applied (chown needs root)")


def check_example_config(deploy, exec_start):
    path = os.path.join(deploy, "kernel.toml.example")
    try:
        with open(path, "rb") as f:
            config = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        check(False, f"kernel.toml.example parses as TOML: {e}")
        return
    for key in ("data_dir", "socket", "name", "log_level"):
        check(isinstance(config.get(key), str), f"kernel.toml.example sets {key} to a string")
    check(config.get("data_dir") == flag_value(exec_start, "--data-dir"),
          "example data_dir equals the unit's --data-dir")
    check(config.get("socket") == flag_value(exec_start, "--socket"),
          "example socket equals the unit's --socket")


class FakeServiceManager:
    """The notification socket systemd gives a Type=notify service, with sender credentials."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    def receive(self, deadline):
        """(pid, set of lines) of the next datagram, or None at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self.sock.settimeout(left)
        try:
            data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, _, _ = struct.unpack("iII", payload[:12])
        return pid, set(data.decode("utf-8", "replace").splitlines())

    def wait_for(self, line, deadline, on_each, process):
        """The sender pid of the first datagram holding `line`; None at the deadline or once
        `process` has exited and sent nothing more."""
        while True:
            got = self.receive(min(deadline, time.monotonic() + 0.2))
            if got is None:
                if time.monotonic() >= deadline or process.poll() is not None:
                    return None
                continue
            pid, lines = got
            on_each(pid, lines)
            if line in lines:
                return pid


def seconds(value):
    """A systemd time span as written in our unit ("30s", "5min", "2min 30s")."""
    total = 0.0
    for number, unit in re.findall(r"(\d+)\s*(ms|s|min|)", value or ""):
        total += int(number) * {"ms": 0.001, "s": 1, "": 1, "min": 60}[unit]
    return total


def replace_flag(argv, flag, value):
    argv = list(argv)
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    return argv


def run_lifecycle(deploy, binary):
    with open(os.path.join(deploy, UNIT), encoding="utf-8") as f:
        unit = parse_unit(f.read())
    exec_start = (last(unit, "Service", "ExecStart") or "").split()
    stop_timeout = seconds(last(unit, "Service", "TimeoutStopSec")) or 90
    watchdog_interval = 1.0  # the unit says 30 s; a test cannot wait that long

    with tempfile.TemporaryDirectory(prefix="lattice-lifecycle-") as work:
        systemd = FakeServiceManager(os.path.join(work, "notify.sock"))
        kernel_socket = os.path.join(work, "run", "kernel.sock")
        os.makedirs(os.path.dirname(kernel_socket))
        argv = [binary] + exec_start[1:]
        argv = replace_flag(argv, "--data-dir", os.path.join(work, "data"))
        argv = replace_flag(argv, "--socket", kernel_socket)
        argv = replace_flag(argv, "--config", os.path.join(deploy, "kernel.toml.example"))
        # Peer links on loopback only, on a port of the system's choosing: a kernel now
        # refuses to start when its peer port is taken.
        argv = replace_flag(argv, "--listen", "127.0.0.1:0")
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "NOTIFY_SOCKET": systemd.path,
               "WATCHDOG_USEC": str(int(watchdog_interval * 1e6))}
        for assignment in [v for k, v in unit.get("Service", []) if k == "Environment"]:
            key, value = assignment.split("=", 1)
            env[key] = value
        print("running: " + " ".join(argv))
        log_path = os.path.join(work, "kernel.log")
        with open(log_path, "w", encoding="utf-8") as log:
            kernel = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            lifecycle_checks(systemd, kernel, kernel_socket, watchdog_interval, stop_timeout)
        finally:
            if kernel.poll() is None:
                kernel.kill()
                kernel.wait()
            if failures:
                with open(log_path, encoding="utf-8", errors="replace") as log:
                    print("kernel output:\n" + log.read()[-4000:])


def lifecycle_checks(systemd, kernel, kernel_socket, watchdog_interval, stop_timeout):
    senders = set()

    def record(pid, _lines):
        senders.add(pid)

    pid = systemd.wait_for("READY=1", time.monotonic() + 60, record, kernel)
    if not check(pid is not None, "kernel sends READY=1"):
        return
    check(os.path.exists(kernel_socket), f"{kernel_socket} exists when READY=1 arrives")

    # Two feedings, each due within one interval of the previous.
    start = time.monotonic()
    fed = [systemd.wait_for("WATCHDOG=1", time.monotonic() + 2 * watchdog_interval + 5, record,
                            kernel) for _ in range(2)]
    check(all(fed), f"kernel sends WATCHDOG=1 (2 in {time.monotonic() - start:.1f} s with "
                    f"WATCHDOG_USEC={int(watchdog_interval * 1e6)})")

    kernel.send_signal(signal.SIGTERM)
    stopping = systemd.wait_for("STOPPING=1", time.monotonic() + stop_timeout, record, kernel)
    check(stopping is not None, "kernel sends STOPPING=1 after SIGTERM")
    try:
        code = kernel.wait(timeout=stop_timeout)
        check(code == 0, f"kernel exits with status 0 after SIGTERM (got {code})")
    except subprocess.TimeoutExpired:
        check(False, f"kernel exits within TimeoutStopSec={stop_timeout:g} s of SIGTERM")
    # NotifyAccess=main: systemd ignores notifications from any other process.
    check(senders == {kernel.pid}, f"every notification comes from the main process "
                                   f"{kernel.pid} (NotifyAccess=main; senders {sorted(senders)})")


def main():
    args = sys.argv[1:]
    lifecycle = bool(args) and args[0] == "--lifecycle"
    if lifecycle:
        args = args[1:]
    if len(args) not in (1, 2) or (lifecycle and len(args) != 2):
        print(__doc__)
        return 2
    deploy = os.path.abspath(args[0])
    binary = os.path.abspath(args[1]) if len(args) == 2 and args[1] else "/bin/true"
    if not check(os.access(binary, os.X_OK), f"kernel binary {binary} exists and is executable"):
        return 1

    if lifecycle:
        run_lifecycle(deploy, binary)
    else:
        for tool in ("systemd-analyze", "systemd-sysusers", "systemd-tmpfiles"):
            if shutil.which(tool) is None:
                print(f"skip: {tool} not found (Debian package: systemd)")
                return SKIP
        with tempfile.TemporaryDirectory(prefix="lattice-systemd-") as work:
            unit, exec_start = check_unit(deploy, binary, work)
            check_kernel_stops_daemons(unit)
            check_template(deploy, binary, unit, work)
            check_web_unit(deploy, binary, unit, work)
            check_sysusers_and_tmpfiles(deploy, unit, work)
            check_example_config(deploy, exec_start)

    return verdict()


if __name__ == "__main__":
    sys.exit(main())
