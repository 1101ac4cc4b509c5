#!/usr/bin/env python3
"""The shared drive against the FUSE file systems people use: the same workloads on tmpfs,
bindfs, fuse-overlayfs and a lattice-fuse mount of a real kernel, in interleaved rounds, with
each round's rate ratio to bindfs and the median of those ratios.

Run as root (FUSE mounts): bench/run-fs-bench.sh [--rounds N] [--gib G] [--only W,...].
Backing directories are on the disk under --work (default /var/tmp/lattice-fs-bench), as the
kernel's data directory is, so every FUSE file system writes to the same disk.
"""
import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def quiet(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == path for line in mounts)


def unmount(path):
    if is_mounted(path):
        subprocess.run(["umount", path], stderr=subprocess.DEVNULL)
    if is_mounted(path):
        subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)


class Tmpfs:
    name = "tmpfs"

    def __init__(self, work):
        self.mnt = work / "tmpfs"

    def mount(self):
        self.mnt.mkdir(parents=True, exist_ok=True)
        run(["mount", "-t", "tmpfs", "-o", "size=3g", "lattice-bench", str(self.mnt)])

    def unmount(self):
        unmount(str(self.mnt))


class Bindfs:
    name = "bindfs"

    def __init__(self, work):
        self.back = work / "bindfs-back"
        self.mnt = work / "bindfs"

    def mount(self):
        for d in (self.back, self.mnt):
            d.mkdir(parents=True, exist_ok=True)
        run(["bindfs", str(self.back), str(self.mnt)])

    def unmount(self):
        unmount(str(self.mnt))
        shutil.rmtree(self.back, ignore_errors=True)


class FuseOverlayfs:
    name = "fuse-overlayfs"

    def __init__(self, work):
        self.base = work / "overlay-back"
        self.mnt = work / "fuse-overlayfs"

    def mount(self):
        for d in ("lower", "upper", "work"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        self.mnt.mkdir(parents=True, exist_ok=True)
        b = self.base
        run(["fuse-overlayfs", "-o",
             f"lowerdir={b}/lower,upperdir={b}/upper,workdir={b}/work", str(self.mnt)])

    def unmount(self):
        unmount(str(self.mnt))
        shutil.rmtree(self.base, ignore_errors=True)


class Lattice:
    """A real kernel (no peer listener) with one fs store, mounted by lattice-fuse."""
    name = "lattice"

    def __init__(self, work, build, fuse_args=(), name="lattice"):
        self.build = Path(build)
        self.fuse_args = list(fuse_args)
        self.name = name
        self.data = work / f"{name}-data"
        self.mnt = work / name
        self.kernel = None
        self.fuse = None

    def bin(self, name):
        return str(self.build / name / name)

    def mount(self):
        self.data.mkdir(parents=True, exist_ok=True)
        self.mnt.mkdir(parents=True, exist_ok=True)
        self.socket = str(self.data / "kernel.sock")
        self.kernel = subprocess.Popen(
            [self.bin("lattice-kernel"), "--data-dir", str(self.data), "--socket", self.socket,
             "--listen", "", "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=open(self.data.parent / "kernel.log", "ab"))
        ctl = [self.bin("lattice-ctl"), "--socket", self.socket]
        wait_for(lambda: subprocess.run(ctl + ["status"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL).returncode == 0,
                 30, "the kernel")
        quiet(ctl + ["store", "create", "bench", "--type", "fs"])
        self.fuse = subprocess.Popen(
            [self.bin("lattice-fuse"), "--socket", self.socket, "--store", "bench", "-f",
             *self.fuse_args, str(self.mnt)],
            stdout=subprocess.DEVNULL, stderr=open(self.data.parent / "fuse.log", "ab"))
        wait_for(lambda: is_mounted(str(self.mnt)), 30, "the lattice-fuse mount")

    def pids(self):
        return [p.pid for p in (self.kernel, self.fuse) if p]

    def unmount(self):
        if self.fuse:
            self.fuse.send_signal(signal.SIGTERM)
            try:
                self.fuse.wait(30)
            except subprocess.TimeoutExpired:
                self.fuse.kill()
        unmount(str(self.mnt))
        if self.kernel:
            self.kernel.send_signal(signal.SIGTERM)
            try:
                self.kernel.wait(30)
            except subprocess.TimeoutExpired:
                self.kernel.kill()
        self.fuse = self.kernel = None
        shutil.rmtree(self.data, ignore_errors=True)


# ---- workloads: each returns (amount, unit) per second of wall time ------------------------

def timed(fn):
    start = time.monotonic()
    amount = fn()
    return amount / (time.monotonic() - start)


def dd_write(mnt, args, _src):
    mib = args.gib * 1024
    return timed(lambda: (quiet(["dd", "if=/dev/zero" if args.zeros else f"if={args.random_file}",
                                 f"of={mnt}/big", "bs=1M", f"count={mib}", "conv=fsync"]),
                          mib * 1.048576)[1])


def dd_read(mnt, args, _src):
    mib = args.gib * 1024
    return timed(lambda: (quiet(["dd", f"if={mnt}/big", "of=/dev/null", "bs=1M"]),
                          mib * 1.048576)[1])


def small_files(mnt, count, size=4096):
    d = Path(mnt) / "small"
    d.mkdir()
    block = os.urandom(size)
    for i in range(count):
        with open(d / f"f{i:05d}", "wb") as f:
            f.write(block)
    return count


def create_10k(mnt, _args, _src):
    return timed(lambda: small_files(mnt, 10_000))


def ls_10k(mnt, _args, _src):
    return timed(lambda: (quiet(["ls", "-l", f"{mnt}/small"]), 10_000)[1])


def rm_10k(mnt, _args, _src):
    return timed(lambda: (quiet(["rm", "-rf", f"{mnt}/small"]), 10_000)[1])


def rsync_in(mnt, _args, src):
    return timed(lambda: (quiet(["rsync", "-a", f"{src}/tree/", f"{mnt}/tree/"]), 9_000)[1])


def sed_1000(mnt, _args, src):
    if not Path(mnt, "tree").exists():  # run alone (--only): the tree comes untimed
        quiet(["rsync", "-a", f"{src}/tree/", f"{mnt}/tree/"])
    files = sorted(Path(mnt, "tree").rglob("*.txt"))[:1000]
    return timed(lambda: (quiet(["sed", "-i", "s/lattice/LATTICE/g"] + [str(f) for f in files]),
                          len(files))[1])


def git_clone(mnt, _args, src):
    return timed(lambda: (quiet(["git", "clone", "-q", "--no-local", f"{src}/repo.git",
                                 f"{mnt}/repo"]), 1)[1])


GIT_STATUS_SAMPLES = 5


def git_status(mnt, _args, src):
    """The first git status right after a clone, the median of GIT_STATUS_SAMPLES: the
    git-clone workload's checkout (or one made untimed when run alone), then fresh untimed
    clones. One sample is 50-120 ms on either system here, and one slow sample would decide
    the round's figure."""
    rates = []
    for i in range(GIT_STATUS_SAMPLES):
        repo = f"{mnt}/repo" if i == 0 else f"{mnt}/repo-status-{i}"
        if not Path(repo).exists():
            quiet(["git", "clone", "-q", "--no-local", f"{src}/repo.git", repo])
        rates.append(timed(lambda: (quiet(["git", "-C", repo, "status", "--porcelain"]), 1)[1]))
    return statistics.median(rates)


WORKLOADS = [
    ("dd-write", "MB/s", dd_write),
    ("dd-read", "MB/s", dd_read),
    ("create-10k", "files/s", create_10k),
    ("ls-l-10k", "files/s", ls_10k),
    ("rm-rf-10k", "files/s", rm_10k),
    ("rsync-9k", "files/s", rsync_in),
    ("sed-i-1000", "files/s", sed_1000),
    ("git-clone", "clones/s", git_clone),
    ("git-status", "runs/s", git_status),
]


def make_sources(src):
    """9,000 files in a tree for rsync and sed, and a bare repository to clone."""
    tree = src / "tree"
    rng = random.Random(7)
    for i in range(9_000):
        d = tree / f"d{i % 90:02d}" / f"e{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        words = " ".join(rng.choice(["lattice", "node", "store", "chunk", "tree"])
                         for _ in range(rng.randint(20, 400)))
        (d / f"f{i:04d}.txt").write_text(words + "\n")
        os.utime(d / f"f{i:04d}.txt", (1_600_000_000 + i, 1_600_000_000 + i))
    quiet(["git", "clone", "-q", "--bare", "--no-local", str(ROOT), str(src / "repo.git")])


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


class PeakRss:
    """Samples the resident memory of some processes while a workload runs."""

    def __init__(self, pids):
        self.pids = pids
        self.peak = {pid: 0 for pid in pids}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while not self.stop.wait(0.05):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kib(pid))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get("BUILD_DIR", str(ROOT / "build")))
    parser.add_argument("--work", default="/var/tmp/lattice-fs-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gib", type=int, default=1, help="size of the dd file in GiB")
    parser.add_argument("--zeros", action="store_true", help="dd from /dev/zero, not random data")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--systems", default="tmpfs,bindfs,fuse-overlayfs,lattice")
    parser.add_argument("--fuse-args", default="",
                        help="extra lattice-fuse arguments, space-separated "
                             "(e.g. --write-back-threads=0)")
    parser.add_argument("--before-build", default="",
                        help="another build (e.g. main's) measured in the same rounds as "
                             "system \"lattice-before\", for before/after figures")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("fs_bench: run as root (it mounts file systems)")

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = Path(tempfile.mkdtemp(prefix="lattice-fs-bench-src-"))
    make_sources(src)
    args.random_file = src / "random"
    if not args.zeros:
        # Random content (chunks that do not deduplicate), from tmpfs so reading it costs little.
        quiet(["dd", "if=/dev/urandom", f"of={args.random_file}", "bs=1M",
               f"count={args.gib * 1024}"])

    chosen = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
    makers = {"tmpfs": lambda: Tmpfs(work), "bindfs": lambda: Bindfs(work),
              "fuse-overlayfs": lambda: FuseOverlayfs(work),
              "lattice": lambda: Lattice(work, args.build, args.fuse_args.split()),
              "lattice-before": lambda: Lattice(work, args.before_build, (), "lattice-before")}
    systems = args.systems.split(",")
    if args.before_build and "lattice-before" not in systems:
        systems.append("lattice-before")
    rates = {(s, w[0]): [] for s in systems for w in chosen}
    lattice_usage = []
    for round_no in range(args.rounds):
        order = systems[:] if round_no % 2 == 0 else systems[::-1]
        for system in order:
            fs = makers[system]()
            fs.mount()
            try:
                for name, unit, fn in chosen:
                    pids = getattr(fs, "pids", list)()
                    before = [(pid, cpu_seconds(pid)) for pid in pids]
                    with PeakRss(pids) as peak:
                        rate = fn(str(fs.mnt), args, src)
                    rates[(system, name)].append(rate)
                    if name == "dd-write" and before:
                        lattice_usage.append(
                            {"cpu_s": [round(cpu_seconds(pid) - cpu, 1) for pid, cpu in before],
                             "peak_rss_mib": [round(peak.peak[pid] / 1024, 1) for pid in pids]})
                    print(f"round {round_no + 1} {system:15s} {name:12s} {rate:12.1f} {unit}",
                          flush=True)
            finally:
                fs.unmount()

    print("\nmedians (and the median of per-round ratios to bindfs)")
    ratios = " ".join(f"{s}/bindfs" for s in ("lattice", "lattice-before") if s in systems)
    print(f"{'workload':12s} " + " ".join(f"{s:>16s}" for s in systems) + "   " + ratios)
    for name, unit, _ in chosen:
        cells = [statistics.median(rates[(s, name)]) for s in systems]
        ratio = ""
        for lattice in ("lattice", "lattice-before"):
            if lattice in systems and "bindfs" in systems:
                per_round = [a / b for a, b in zip(rates[(lattice, name)],
                                                   rates[("bindfs", name)])]
                ratio += f"{statistics.median(per_round):8.2f}"
        print(f"{name:12s} " + " ".join(f"{c:16.1f}" for c in cells) + f"   {ratio}  ({unit})")
    for usage in lattice_usage:
        print(f"lattice during a {args.gib} GiB dd-write: kernel, lattice-fuse CPU seconds "
              f"{usage['cpu_s']}, peak RSS MiB {usage['peak_rss_mib']}")
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
