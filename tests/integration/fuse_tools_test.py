#!/usr/bin/python3
"""The shared drive with the tools people use, on a real lattice-fuse mount of a real kernel:
git, rsync, tar, sed and vim, cp -a, a 1 GiB file, make; and the crashes a laptop sees
(lattice-fuse or the kernel killed in the middle of a copy, a full disk).

Usage: fuse_tools_test.py --kernel K --ctl C --fuse F SCENARIO (as root, with /dev/fuse).
"""

import errno
import os
import random
import stat
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuse_support import (DEADLINE, Skip, World, check, is_mounted, need_tools,  # noqa: E402
                          run, run_main, sha256_of, wait_until)

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="Ada", GIT_AUTHOR_EMAIL="ada@example.org",
               GIT_COMMITTER_NAME="Ada", GIT_COMMITTER_EMAIL="ada@example.org")


def make_tree(root, files=300, seed=1):
    """A source tree as people have them: nested directories, text and binary files of many
    sizes (some above a chunk), empty files and directories, symlinks (relative, absolute,
    dangling), a hard link, modes from 0400 to 04755, and mtimes in the past."""
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    paths = []
    for i in range(files):
        d = os.path.join(root, "dir%d" % (i % 12), "sub%d" % (i % 5))
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "file%03d.%s" % (i, rng.choice(["txt", "c", "bin", "md"])))
        size = rng.choice([0, 1, 100, 4096, 5000, 70_000, 300_000])
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))
        os.chmod(path, rng.choice([0o644, 0o600, 0o755, 0o400, 0o664]))
        paths.append(path)
    os.makedirs(os.path.join(root, "empty", "deeper"), exist_ok=True)
    os.symlink("../dir1", os.path.join(root, "dir0", "rel"))
    os.symlink("/etc/hostname", os.path.join(root, "abs-link"))
    os.symlink("no/such/target", os.path.join(root, "dangling"))
    os.link(paths[0], os.path.join(root, "hardlink-to-first"))
    setuid = os.path.join(root, "setuid-tool")
    with open(setuid, "wb") as f:
        f.write(b"#!/bin/sh\necho hi\n")
    os.chmod(setuid, 0o4755)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            t = 1_500_000_000 + rng.randrange(100_000_000)
            os.utime(p, ns=(t * 10**9 + rng.randrange(10**9), t * 10**9 + rng.randrange(10**9)),
                     follow_symlinks=False)
    return paths


def manifest(root, times=True):
    """Everything a copy must keep, by relative path: type, permission bits, size, content
    hash, link target, mtime in ns (files and links), and which paths share an inode."""
    out = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            entry = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode)}
            if stat.S_ISREG(st.st_mode):
                entry["size"] = st.st_size
                entry["sha"] = sha256_of(p)
                inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(p)
            if times and not stat.S_ISDIR(st.st_mode):
                entry["mtime_ns"] = st.st_mtime_ns
            out[rel] = entry
    links = sorted(sorted(group) for group in inodes.values() if len(group) > 1)
    return out, links


def diff_manifests(a, b):
    (ma, la), (mb, lb) = a, b
    problems = []
    for path in sorted(set(ma) | set(mb)):
        if ma.get(path) != mb.get(path):
            problems.append("%s: %r != %r" % (path, ma.get(path), mb.get(path)))
    if la != lb:
        problems.append("hard links %r != %r" % (la, lb))
    return problems


# ---- Tools -------------------------------------------------------------------------------


def git_clone(world):
    """git clone of a real repository (Lattice's own), then status clean, fsck clean, and a
    commit that git log shows."""
    need_tools("git")
    if not os.path.isdir(os.path.join(SOURCE_ROOT, ".git")):
        raise Skip("the source tree is not a git checkout")
    repo = os.path.join(world.mnt, "lattice")
    run(["git", "clone", "-q", "--no-local", "file://" + SOURCE_ROOT, repo], env=GIT_ENV)
    check(run(["git", "-C", repo, "status", "--porcelain"]) == "", "git status is not clean")
    run(["git", "-C", repo, "fsck", "--full", "--strict"])
    with open(os.path.join(repo, "NOTES.md"), "w") as f:
        f.write("written on the shared drive\n")
    with open(os.path.join(repo, "README.md"), "a") as f:
        f.write("\nOne more line.\n")
    run(["git", "-C", repo, "add", "-A"], env=GIT_ENV)
    run(["git", "-C", repo, "commit", "-q", "-m", "A commit on the mount"], env=GIT_ENV)
    check(run(["git", "-C", repo, "log", "-1", "--format=%s"]).strip() == "A commit on the mount",
          "the commit is not the head")
    check(run(["git", "-C", repo, "status", "--porcelain"]) == "", "not clean after commit")
    run(["git", "-C", repo, "fsck", "--full", "--strict"])
    run(["git", "-C", repo, "gc", "-q"], env=GIT_ENV)
    run(["git", "-C", repo, "fsck", "--full", "--strict"])


def rsync_round_trip(world):
    """rsync -a of a source tree in, and back out: diff -r --no-dereference finds nothing,
    and modes, times, link targets and contents are all the same."""
    need_tools("rsync", "diff")
    src = world.scratch("src")
    make_tree(src)
    inside = os.path.join(world.mnt, "tree")
    run(["rsync", "-aH", src + "/", inside + "/"])
    out = world.scratch("out")
    run(["rsync", "-aH", inside + "/", out + "/"])
    run(["diff", "-r", "--no-dereference", src, out])
    problems = diff_manifests(manifest(src), manifest(inside))
    check(not problems, "on the mount:\n" + "\n".join(problems[:20]))
    problems = diff_manifests(manifest(src), manifest(out))
    check(not problems, "copied back out:\n" + "\n".join(problems[:20]))
    # A second rsync finds nothing to do.
    changed = run(["rsync", "-aHi", src + "/", inside + "/"])
    check(changed.strip() == "", "a second rsync changed: %s" % changed[:2000])


def tar_round_trip(world):
    """tar x of an archive onto the mount and tar c of it back: the same members, modes,
    times and contents."""
    need_tools("tar")
    src = world.scratch("src")
    make_tree(src, files=200, seed=2)
    archive = os.path.join(world.scratch("archives"), "in.tar")
    # The POSIX (pax) format keeps times to the nanosecond; GNU's default keeps seconds.
    run(["tar", "--format=posix", "-C", src, "-cpf", archive, "."])
    inside = os.path.join(world.mnt, "untarred")
    os.makedirs(inside)
    run(["tar", "-C", inside, "-xpf", archive])
    problems = diff_manifests(manifest(src), manifest(inside))
    check(not problems, "after tar x:\n" + "\n".join(problems[:20]))
    again = os.path.join(world.scratch("archives"), "out.tar")
    run(["tar", "--format=posix", "-C", inside, "-cpf", again, "."])
    out = world.scratch("retarred")
    run(["tar", "-C", out, "-xpf", again])
    problems = diff_manifests(manifest(src), manifest(out))
    check(not problems, "after tar c:\n" + "\n".join(problems[:20]))


def edits(world):
    """sed -i (a temporary file renamed over the original) and vim's write to a temporary
    then rename: the new content, the file's mode kept, no temporary left behind."""
    need_tools("sed")
    path = os.path.join(world.mnt, "notes.txt")
    with open(path, "w") as f:
        f.write("".join("line %d of the lattice notes\n" % i for i in range(2000)))
    os.chmod(path, 0o640)
    run(["sed", "-i", "s/lattice/LATTICE/", path])
    with open(path) as f:
        text = f.read()
    check(text.count("LATTICE") == 2000 and "lattice" not in text, "sed -i did not apply")
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o640, "sed -i lost the mode")
    vim = None
    for candidate in ("vim.tiny", "vim", "vi"):
        if subprocess.run(["sh", "-c", "command -v " + candidate], capture_output=True).returncode == 0:
            vim = candidate
            break
    if vim is None:
        raise Skip("no vim")
    run([vim, "-Es", "-u", "NONE", "-c", "set nobackup writebackup backupcopy=no",
         "-c", "%s/LATTICE/shared drive/", "-c", "wq", path])
    with open(path) as f:
        text = f.read()
    check(text.count("shared drive") == 2000, "vim's write did not land: %r" % text[:200])
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o640, "vim lost the mode")
    leftovers = [n for n in os.listdir(world.mnt) if n != "notes.txt"]
    check(not leftovers, "temporary files left behind: %r" % leftovers)


def cp_archive(world):
    """cp -a keeps modes, times, symlinks and hard links, onto the mount and off it."""
    src = world.scratch("src")
    make_tree(src, files=150, seed=3)
    inside = os.path.join(world.mnt, "copy")
    run(["cp", "-a", src, inside])
    problems = diff_manifests(manifest(src), manifest(inside))
    check(not problems, "cp -a onto the mount:\n" + "\n".join(problems[:20]))
    out = os.path.join(world.scratch("back"), "copy")
    run(["cp", "-a", inside, out])
    problems = diff_manifests(manifest(src), manifest(out))
    check(not problems, "cp -a off the mount:\n" + "\n".join(problems[:20]))


def large_file(world):
    """A 1 GiB file written through the mount reads back with the same checksum, also after
    lattice-fuse is restarted (so it was committed, not only cached)."""
    path = os.path.join(world.mnt, "big.bin")
    digest = __import__("hashlib").sha256()
    rng = random.Random(11)
    with open(path, "wb") as f:
        for _ in range(1024):
            # Random throughout, so no chunk deduplicates with another.
            data = rng.randbytes(1 << 20)
            digest.update(data)
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    check(os.stat(path).st_size == 1 << 30, "size %d" % os.stat(path).st_size)
    check(sha256_of(path) == digest.hexdigest(), "read back differs")
    world.mount.stop()
    world.mount.start()
    check(sha256_of(path) == digest.hexdigest(), "differs after lattice-fuse restarted")


def make_project(world):
    """make builds a small C project on the mount, rebuilds only what changed, and the
    program runs."""
    need_tools("make", "cc")
    project = os.path.join(world.mnt, "hello")
    os.makedirs(project)
    files = {
        "Makefile": "hello: main.o greet.o\n\tcc -o $@ $^\n%.o: %.c greet.h\n\tcc -c -o $@ $<\n"
                    "clean:\n\trm -f hello *.o\n",
        "greet.h": "const char* greet(void);\n",
        "greet.c": '#include "greet.h"\nconst char* greet(void) { return "hello, lattice"; }\n',
        "main.c": '#include <stdio.h>\n#include "greet.h"\n'
                  'int main(void) { puts(greet()); return 0; }\n',
    }
    for name, text in files.items():
        with open(os.path.join(project, name), "w") as f:
            f.write(text)
    run(["make", "-C", project])
    check(run([os.path.join(project, "hello")]).strip() == "hello, lattice", "wrong output")
    check(run(["make", "-C", project, "-q", "hello"], timeout=60) == "", "make -q output")
    greet = os.path.join(project, "greet.c")
    with open(greet, "w") as f:
        f.write('#include "greet.h"\nconst char* greet(void) { return "hello again"; }\n')
    st = os.stat(os.path.join(project, "main.o"))
    os.utime(greet, ns=(st.st_mtime_ns + 10**9, st.st_mtime_ns + 10**9))
    out = run(["make", "-C", project])
    check("greet.c" in out and "main.c" not in out, "make rebuilt the wrong files: %s" % out)
    check(run([os.path.join(project, "hello")]).strip() == "hello again", "not rebuilt")
    run(["make", "-C", project, "clean"])
    check(sorted(os.listdir(project)) == sorted(files), "make clean left %r" % os.listdir(project))


# ---- Public exercisers ----------------------------------------------------------------

FIO_JOBS = """
[global]
size=24m
verify=crc32c
verify_fatal=1
verify_dump=0
do_verify=1
# Several jobs at once, so reads, writes, mmaps and fsyncs of different files interleave.
[random-writes-with-fsync]
ioengine=psync
rw=randwrite
bsrange=512-128k
fsync=16
nrfiles=4
[mmap-random-writes]
ioengine=mmap
rw=randwrite
bs=4k
[unaligned-sequential]
ioengine=sync
rw=write
bsrange=1000-70k
bs_unaligned=1
[random-read-write-mix]
ioengine=psync
rw=randrw
bs=16k
"""


def public_exercisers(world):
    """fio (Debian's) writes files with random, mmap, mixed and unaligned writes, fsyncs
    them, and reads every block back against its checksum (verify_fatal: one wrong byte fails
    the run); dbench replays its NetBench client load (creates, renames, deletes, locks,
    reads, writes) from several processes and reports any call whose result differs from what
    a local disk gives. fio's files are checked again after a remount, so what comes back from
    the kernel rather than the page cache is checked too."""
    need_tools("fio", "dbench")
    jobs = os.path.join(world.scratch("fio"), "jobs.fio")
    with open(jobs, "w") as f:
        f.write(FIO_JOBS)
    data = os.path.join(world.mnt, "fio")
    os.makedirs(data)
    run(["fio", "--directory", data, jobs], timeout=600)
    written = {name: sha256_of(os.path.join(data, name)) for name in os.listdir(data)}
    check(len(written) >= 7, "fio left %r" % sorted(written))
    world.mount.stop()
    world.mount.start()
    for name, digest in written.items():
        check(sha256_of(os.path.join(data, name)) == digest, "%s differs after a remount" % name)

    bench = os.path.join(world.mnt, "dbench")
    os.makedirs(bench)
    out = run(["dbench", "-D", bench, "-t", "15", "3"], timeout=300)
    check("Throughput" in out, "dbench did not finish:\n%s" % out[-3000:])
    # dbench takes semaphore id 0, a valid one, for a failure to create its start barrier
    # and says so; a real failure is followed by "failed to initialize the barrier", kept.
    failures = [line for line in out.splitlines()
                if ("ERROR" in line or "failed" in line)
                and line.strip() != "failed to create barrier semaphore"]
    check(not failures, "dbench saw calls differ from a local disk:\n%s" % "\n".join(failures[:40]))
    world.kernel.ctl("debug", "verify", "docs")


# stress-ng's stressors of file-system calls, each checking its own results (--verify): all
# of them pass on tmpfs. Left out: rawdev and verity (a block device, fs-verity: tmpfs has
# neither), and touch and mmapfork, which pass here too but add a minute of creating files
# and forking that the other stressors already cover.
STRESS_NG_STRESSORS = [
    "access", "chdir", "chmod", "chown", "close", "copy-file", "dentry", "dir", "dirdeep",
    "dirmany", "dup", "fallocate", "fcntl", "fiemap", "fifo", "file-ioctl", "filename",
    "flock", "fpunch", "fsize", "fstat", "getdent", "hdd", "inode-flags", "io", "iomix",
    "lease", "link", "locka", "lockf", "madvise", "mknod", "mmap", "mremap", "msync",
    "open", "readahead", "rename", "seek", "sendfile", "splice", "stream", "symlink",
    "sync-file", "utime", "xattr"]


def stress_ng_exercisers(world):
    """Debian's stress-ng runs each of its file-system stressors on the mount for a few
    seconds, one at a time, each verifying what it reads back and what its calls return
    (--verify): every one passes, as on tmpfs, and the store verifies after them."""
    need_tools("stress-ng")
    failed = []
    for stressor in STRESS_NG_STRESSORS:
        directory = os.path.join(world.mnt, "stress-" + stressor)
        os.makedirs(directory)
        done = subprocess.run(["stress-ng", "--" + stressor, "1", "--timeout", "2", "--verify",
                               "--temp-path", directory], capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            failed.append("%s (%d): %s" % (stressor, done.returncode,
                                           (done.stdout + done.stderr)[-1500:]))
    check(not failed, "stress-ng stressors failed on the mount:\n" + "\n".join(failed))
    world.kernel.ctl("debug", "verify", "docs")


# ---- Crashes -----------------------------------------------------------------------------


# The copier's own process: writes files of random sizes into a directory, fsyncing each,
# and prints the path and checksum of each file once its fsync returned.
COPIER = r"""
import hashlib, os, random, sys
directory, rng = sys.argv[1], random.Random(int(sys.argv[2]))
os.makedirs(directory, exist_ok=True)
i = 0
while True:
    data = rng.randbytes(rng.choice([100, 10_000, 200_000, 1_500_000]))
    path = os.path.join(directory, "f%05d" % i)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    print(path, hashlib.sha256(data).hexdigest(), flush=True)
    i += 1
"""


class Copier:
    """Writes files of random sizes into a directory on the mount, fsyncing each, and records
    the checksum of every file whose fsync returned, until stopped or an error. It runs as a
    process of its own, as a user's copy would: the test's process then holds no file of the
    mount when it starts a kernel, since a child forked while holding one closes it (a FLUSH,
    which waits for the kernel the child is about to become when the file has writes to
    save)."""

    def __init__(self, directory, seed):
        self.args = [sys.executable, "-c", COPIER, directory, str(seed)]
        self.synced = {}
        self.error = None
        self.stopping = False
        self.process = None
        self.reader = threading.Thread(target=self.read, daemon=True)

    def read(self):
        for line in self.process.stdout:
            path, digest = line.split()
            self.synced[path] = digest
        self.process.wait()
        if not self.stopping:
            self.error = "the copier ended: %s" % self.process.stderr.read().strip()[-300:]

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.reader.start()
        return self

    def join(self):
        self.stopping = True
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(60)


def verify_synced(synced):
    bad = [p for p, digest in synced.items() if not os.path.exists(p) or sha256_of(p) != digest]
    check(not bad, "%d of %d fsynced files are damaged or gone, e.g. %r" %
          (len(bad), len(synced), bad[:5]))


def kill_fuse_mid_copy(world):
    """kill -9 of lattice-fuse while files are being written and fsynced: a new lattice-fuse
    takes over the stale mount point, and every file whose fsync returned is intact."""
    copier = Copier(os.path.join(world.mnt, "copy"), 5).start()
    wait_until(lambda: len(copier.synced) >= 30 or copier.error, "30 files to be fsynced", 120)
    world.mount.kill9()
    copier.join()
    synced = dict(copier.synced)
    check(len(synced) >= 30, "only %d files fsynced before the kill" % len(synced))
    world.mount.start()
    verify_synced(synced)
    # The mount works again: write, read back.
    path = os.path.join(world.mnt, "after.txt")
    with open(path, "w") as f:
        f.write("after the crash\n")
    with open(path) as f:
        check(f.read() == "after the crash\n", "the remount does not read back")


def kill_kernel_mid_copy(world):
    """kill -9 of the kernel while files are written through the mount: the mount waits for
    the restarted kernel, and every file whose fsync returned is intact; debug verify passes."""
    copier = Copier(os.path.join(world.mnt, "copy"), 6).start()
    wait_until(lambda: len(copier.synced) >= 30 or copier.error, "30 files to be fsynced", 120)
    world.kernel.kill9()
    synced = dict(copier.synced)
    world.kernel.start()
    copier.join()
    synced.update(copier.synced)
    check(is_mounted(world.mnt), "the mount went away with the kernel")
    verify_synced(synced)
    world.kernel.ctl("debug", "verify", "docs")
    path = os.path.join(world.mnt, "after.txt")
    with open(path, "w") as f:
        f.write("after the kernel restart\n")
    with open(path) as f:
        check(f.read() == "after the kernel restart\n", "the mount does not read back")


def full_disk(world):
    """A kernel whose data directory is on a small file system: writing past its end fails
    with ENOSPC, the store stays consistent (debug verify) and what was written before stays
    readable; removing the files that filled it succeeds on the full disk, and once the chunk
    collector ran (no grace period here) the drive writes again without the operator freeing
    anything else."""
    world.mount.stop()
    world.kernel.stop()
    small = os.path.join(world.root, "full-disk")
    os.makedirs(small)
    run(["mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "lattice-full", small])
    ballast = os.path.join(small, "ballast")
    with open(ballast, "wb") as f:
        f.write(os.urandom(32 << 20))
    try:
        # Chunks are refused below 4 MiB free (metadata writes may go down to half of the
        # 1 MiB asked); the collector runs every 200 ms and keeps nothing no file shows, but
        # what was uploaded or read in the last 5 s.
        kernel = world.add_kernel("small", extra=["--min-free-bytes", str(1 << 20),
                                                  "--fs-gc-interval-ms", "200",
                                                  "--fs-gc-grace-ms", "0",
                                                  "--fs-gc-touch-ms", "5000"])
        kernel.data = os.path.join(small, "data")
        kernel.start()
        kernel.ctl("store", "create", "docs", "--type", "fs")
        mount = world.add_mount(kernel, "docs", os.path.join(world.root, "small-mnt"))
        mount.start()
        keep = os.path.join(mount.path, "keep.txt")
        with open(keep, "w") as f:
            f.write("written before the disk filled\n")
        failure = None
        try:
            for i in range(40):
                with open(os.path.join(mount.path, "fill-%d.bin" % i), "wb") as f:
                    for _ in range(8):
                        f.write(os.urandom(1 << 20))  # nothing deduplicates
                    f.flush()
                    os.fsync(f.fileno())
        except OSError as error:
            failure = error
        check(failure is not None, "320 MiB fitted on a 96 MiB disk")
        check(failure.errno in (errno.ENOSPC, errno.EDQUOT),
              "writing past the end failed with %s, not ENOSPC" % failure)
        with open(keep) as f:
            check(f.read() == "written before the disk filled\n", "an earlier file was hurt")
        kernel.ctl("debug", "verify", "docs")
        # rm on the full disk: every unlink succeeds.
        for name in os.listdir(mount.path):
            if name.startswith("fill-"):
                os.unlink(os.path.join(mount.path, name))
        check(sorted(os.listdir(mount.path)) == ["keep.txt"], "the removed files are still shown")

        after = os.urandom(16 << 20)

        def large_write_works():
            try:
                with open(os.path.join(mount.path, "after.bin"), "wb") as f:
                    f.write(after)
                    f.flush()
                    os.fsync(f.fileno())
                return True
            except OSError:
                return False
        wait_until(large_write_works, "16 MiB to fit once the removed files' chunks are collected",
                   DEADLINE)
        with open(os.path.join(mount.path, "after.bin"), "rb") as f:
            check(f.read() == after, "the write after the collection")
        with open(keep) as f:
            check(f.read() == "written before the disk filled\n", "the kept file after collection")
        kernel.ctl("debug", "verify", "docs")
        mount.stop()
        kernel.stop()
    finally:
        subprocess.run(["umount", "-l", small], capture_output=True)


SCENARIOS = {f.__name__: f for f in [
    git_clone, rsync_round_trip, tar_round_trip, edits, cp_archive, large_file, make_project,
    kill_fuse_mid_copy, kill_kernel_mid_copy, full_disk, public_exercisers,
    stress_ng_exercisers]}


if __name__ == "__main__":
    sys.exit(run_main(__doc__, SCENARIOS, World))
