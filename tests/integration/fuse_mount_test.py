#!/usr/bin/python3
"""End-to-end tests of lattice-fuse: a real lattice-kernel in a temporary directory, an fs
store made with lattice-ctl, a real lattice-fuse mounting it on a temporary folder, and
ordinary system calls on the mount checking POSIX behaviour as tools expect it.

Usage: fuse_mount_test.py --kernel K --ctl C --fuse F SCENARIO
Each scenario starts its own kernel and mount; ctest runs one scenario per test. Exit status
77 (skipped): not root, or no /dev/fuse. Nothing sleeps
to wait: every wait polls for the awaited thing with a deadline.
"""

import argparse
import ctypes
import errno
import fcntl
import json
import mmap
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuse_support import (Kernel, Skip, TestFailure, check, is_mounted, tail,  # noqa: E402
                          wait_until)
from fuse_tree_exerciser import tree_exerciser  # noqa: E402
from libc_calls import (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, LIBC,  # noqa: E402
                        RENAME_EXCHANGE, RENAME_NOREPLACE, UTIME_NOW, UTIME_OMIT, fallocate,
                        getxattr_sized, renameat2, utimensat)


def expect_errno(code, call, *args):
    try:
        call(*args)
    except OSError as error:
        check(error.errno == code, "%s%r: wanted %s, got %s" % (
            getattr(call, "__name__", call), args, errno.errorcode[code],
            errno.errorcode.get(error.errno, error.errno)))
        return
    raise TestFailure("%s%r succeeded; wanted %s" % (getattr(call, "__name__", call), args,
                                                      errno.errorcode[code]))


# ---- processes -----------------------------------------------------------------------------


class Mount:
    """A lattice-fuse in the foreground on `path`."""

    def __init__(self, args, kernel, root, store, path, extra=()):
        self.binary = args.fuse
        self.kernel = kernel
        self.store = store
        self.path = path
        self.log_path = os.path.join(root, "fuse.log")
        self.extra = list(extra)
        self.process = None

    def start(self):
        env = dict(os.environ)
        env.pop("LATTICE_TOKEN", None)
        env.pop("LATTICE_SOCKET", None)
        before = self.mounts_logged()
        self.process = subprocess.Popen(
            [self.binary, "--socket", self.kernel.socket, "--store", self.store, self.path,
             "-f", "-o", "allow_other", "--log-level", "debug", *self.extra],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env)

        def mounted():
            if self.process.poll() is not None:
                raise TestFailure("lattice-fuse exited with %s: %s" % (
                    self.process.returncode, tail(self.log_path)))
            # Not only is_mounted: a stale mount being taken over is listed too.
            return self.mounts_logged() > before and is_mounted(self.path)
        wait_until(mounted, "the mount at " + self.path)

    def mounts_logged(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().count("mounted the store")
        except OSError:
            return 0

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                subprocess.run(["umount", "-l", self.path], capture_output=True)
                raise TestFailure("lattice-fuse did not stop on SIGTERM: " + tail(self.log_path))
            check(self.process.returncode == 0, "lattice-fuse exited with %s after SIGTERM: %s" % (
                self.process.returncode, tail(self.log_path)))
            check(not is_mounted(self.path), "the mount is still there after SIGTERM")


class World:
    def __init__(self, args):
        if os.geteuid() != 0:
            raise Skip("not root")
        if not os.path.exists("/dev/fuse"):
            raise Skip("no /dev/fuse")
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-fuse-test-")
        os.chmod(self.root, 0o755)
        self.kernel = Kernel(args, self.root)
        self.kernel.start()
        self.kernel.ctl("store", "create", "drive", "--type", "fs")
        self.mnt = os.path.join(self.root, "mnt")
        os.mkdir(self.mnt)
        self.mount = Mount(args, self.kernel, self.root, "drive", self.mnt)
        self.mount.start()

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def remount(self):
        self.mount.stop()
        self.mount.start()

    def close(self, ok):
        try:
            self.mount.stop()
        finally:
            self.kernel.stop()
            if is_mounted(self.mnt):
                subprocess.run(["umount", "-l", self.mnt], capture_output=True)
            if ok and not os.environ.get("LATTICE_TEST_KEEP_DIRS"):
                shutil.rmtree(self.root, ignore_errors=True)
            else:
                print("kept " + self.root, file=sys.stderr)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def as_user(uid, code):
    """Runs Python `code` as `uid` (so root's capabilities do not hide a rule)."""
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    return subprocess.run([python, "-c", code], capture_output=True, text=True,
                          preexec_fn=lambda: (os.setgid(uid), os.setuid(uid)))


# ---- scenarios -----------------------------------------------------------------------------


def files_and_content(w):
    f = w.p("a.txt")
    write(f, b"hello")
    check(read(f) == b"hello", "read back after close")
    write(f, b" world", "ab")
    check(read(f) == b"hello world", "O_APPEND appends")
    fd = os.open(f, os.O_WRONLY | os.O_APPEND)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, b"!")
    os.close(fd)
    check(read(f) == b"hello world!", "O_APPEND writes at the end whatever the offset")
    write(f, b"new")
    check(read(f) == b"new", "O_TRUNC empties before writing")
    expect_errno(errno.EEXIST, os.open, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    # Truncate both ways.
    os.truncate(f, 1)
    check(read(f) == b"n", "truncate down")
    os.truncate(f, 10)
    check(read(f) == b"n" + b"\0" * 9, "truncate up reads zeros")
    check(os.stat(f).st_size == 10, "size after truncate up")
    # Sparse: a write far out leaves a hole of zeros.
    s = w.p("sparse")
    with open(s, "wb") as out:
        out.seek(50 * 1024 * 1024)
        out.write(b"end")
    st = os.stat(s)
    check(st.st_size == 50 * 1024 * 1024 + 3, "sparse size %d" % st.st_size)
    with open(s, "rb") as inp:
        inp.seek(25 * 1024 * 1024)
        check(inp.read(4096) == b"\0" * 4096, "a hole reads as zeros")
        inp.seek(50 * 1024 * 1024)
        check(inp.read() == b"end", "the end of a sparse file")
    check(st.st_blocks * 512 < 4 * 1024 * 1024, "a hole takes no blocks (%d)" % st.st_blocks)
    # Larger random content, changed in the middle, read through another open.
    big = os.urandom(3 * 1024 * 1024 + 123)
    b = w.p("big.bin")
    write(b, big)
    with open(b, "r+b") as out:
        out.seek(1_000_000)
        out.write(b"X" * 5000)
        out.seek(0)
        check(out.read(10) == big[:10], "a dirty file reads its base")
        out.seek(999_998)
        check(out.read(4) == big[999_998:1_000_000] + b"XX", "a dirty file reads its writes")
    changed = big[:1_000_000] + b"X" * 5000 + big[1_005_000:]
    check(read(b) == changed, "content after a change in the middle")
    # Names.
    expect_errno(errno.ENAMETOOLONG, open, w.p("n" * 256), "wb")
    write(w.p("n" * 255), b"ok")
    check(read(w.p("n" * 255)) == b"ok", "a 255-byte name")
    deep = w.mnt
    expect_errno(errno.ENAMETOOLONG, os.stat, os.path.join(deep, *(["d" * 200] * 25)))
    # Everything is still there after a remount (nothing only in caches).
    w.remount()
    check(read(f) == b"n" + b"\0" * 9, "small file after remount")
    check(read(b) == changed, "big file after remount")
    check(os.stat(s).st_size == 50 * 1024 * 1024 + 3, "sparse size after remount")


def rename_and_links(w):
    write(w.p("a"), b"A")
    write(w.p("b"), b"B")
    os.rename(w.p("a"), w.p("b"))
    check(read(w.p("b")) == b"A" and not os.path.exists(w.p("a")), "rename over a file")
    os.mkdir(w.p("d1"))
    os.mkdir(w.p("d2"))
    write(w.p("d1", "x"), b"x")
    os.rename(w.p("d1"), w.p("d2"))
    check(read(w.p("d2", "x")) == b"x", "rename of a directory over an empty one")
    os.mkdir(w.p("d3"))
    expect_errno(errno.ENOTEMPTY, os.rename, w.p("d3"), w.p("d2"))
    expect_errno(errno.EISDIR, os.rename, w.p("b"), w.p("d2"))
    expect_errno(errno.ENOTDIR, os.rename, w.p("d3"), w.p("b"))
    expect_errno(errno.EINVAL, os.rename, w.p("d2"), w.p("d2", "inside"))
    write(w.p("c"), b"C")
    expect_errno(errno.EEXIST, renameat2, w.p("c"), w.p("b"), RENAME_NOREPLACE)
    renameat2(w.p("c"), w.p("b"), RENAME_EXCHANGE)
    check(read(w.p("b")) == b"C" and read(w.p("c")) == b"A", "RENAME_EXCHANGE swaps")
    # Hard links: one inode, coherent attributes, counts.
    os.link(w.p("b"), w.p("b2"))
    os.link(w.p("b"), w.p("d3", "b3"))
    s1, s2 = os.stat(w.p("b")), os.stat(w.p("b2"))
    check(s1.st_ino == s2.st_ino and s1.st_nlink == 3, "nlink %d after two links" % s1.st_nlink)
    os.chmod(w.p("b2"), 0o600)
    check(stat.S_IMODE(os.stat(w.p("d3", "b3")).st_mode) == 0o600, "chmod seen through a link")
    write(w.p("b2"), b"through b2")
    check(read(w.p("d3", "b3")) == b"through b2", "content seen through another link")
    os.unlink(w.p("b"))
    check(os.stat(w.p("b2")).st_nlink == 2, "nlink after an unlink")
    expect_errno(errno.EPERM, os.link, w.p("d3"), w.p("d3link"))
    # Directory link counts.
    check(os.stat(w.p("d3")).st_nlink >= 2, "a directory has at least two links")
    expect_errno(errno.ENOTEMPTY, os.rmdir, w.p("d3"))
    os.unlink(w.p("d3", "b3"))
    os.rmdir(w.p("d3"))
    expect_errno(errno.ENOENT, os.stat, w.p("d3"))


def attributes(w):
    f = w.p("f")
    write(f, b"data")
    os.chmod(f, 0o640)
    check(stat.S_IMODE(os.stat(f).st_mode) == 0o640, "chmod")
    os.chown(f, 1234, 5678)
    st = os.stat(f)
    check((st.st_uid, st.st_gid) == (1234, 5678), "chown")
    # utimensat with explicit times, UTIME_OMIT and UTIME_NOW.
    utimensat(f, (1000, 5), (2000, 7))
    st = os.stat(f)
    check((st.st_atime_ns, st.st_mtime_ns) == (1000 * 10**9 + 5, 2000 * 10**9 + 7),
          "explicit times with nanoseconds: %d %d" % (st.st_atime_ns, st.st_mtime_ns))
    before = time.time()
    utimensat(f, (0, UTIME_OMIT), (0, UTIME_NOW))
    st = os.stat(f)
    check(st.st_atime_ns == 1000 * 10**9 + 5, "UTIME_OMIT keeps atime")
    check(st.st_mtime >= before - 2, "UTIME_NOW sets mtime to now")
    # A write changes mtime and ctime; chmod changes only ctime.
    utimensat(f, (1000, 0), (1000, 0))
    ctime = os.stat(f).st_ctime_ns
    write(f, b"more", "ab")
    st = os.stat(f)
    check(st.st_mtime > 1000 and st.st_ctime_ns >= ctime, "a write updates mtime and ctime")
    # Times set before close (cp -p, tar) are kept by the commit at close.
    g = w.p("g")
    fd = os.open(g, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"payload")
    os.utime(fd, ns=(3000 * 10**9, 4000 * 10**9))
    os.close(fd)
    check(os.stat(g).st_mtime_ns == 4000 * 10**9, "futimens before close is kept")
    # setuid and setgid are cleared when someone without CAP_FSETID writes, and on chown.
    s = w.p("suid")
    write(s, b"#!/bin/sh\n")
    os.chmod(s, 0o6777)
    os.chmod(w.mnt, 0o777)
    done = as_user(65534, "open(%r, 'ab').write(b'x')" % s)
    check(done.returncode == 0, "write as nobody: " + done.stderr)
    check(stat.S_IMODE(os.stat(s).st_mode) & 0o6000 == 0,
          "setuid/setgid cleared on write: %o" % stat.S_IMODE(os.stat(s).st_mode))
    os.chmod(s, 0o6755)
    os.chown(s, 1, 1)
    check(stat.S_IMODE(os.stat(s).st_mode) & 0o4000 == 0, "setuid cleared on chown")
    # Permissions are checked (default_permissions).
    p = w.p("private")
    write(p, b"secret")
    os.chmod(p, 0o600)
    done = as_user(65534, "open(%r).read()" % p)
    check(done.returncode != 0 and "Permission denied" in done.stderr,
          "nobody cannot read a 0600 file of root")
    # Sticky directory: nobody cannot remove another user's file.
    t = w.p("tmp")
    os.mkdir(t)
    os.chmod(t, 0o1777)
    roots = os.path.join(t, "roots")
    write(roots, b"r")
    mine = os.path.join(t, "nobodys")
    done = as_user(65534, "import os; open(%r, 'w').write('n'); os.unlink(%r)" % (mine, mine))
    check(done.returncode == 0, "nobody removes its own file in a sticky directory: " + done.stderr)
    done = as_user(65534, "import os; os.unlink(%r)" % roots)
    check(done.returncode != 0 and "Operation not permitted" in done.stderr,
          "the sticky bit protects another user's file: " + done.stderr)
    check(os.path.exists(roots), "root's file is still there")


def special_files(w):
    os.symlink("target/of/link", w.p("ln"))
    check(os.readlink(w.p("ln")) == "target/of/link", "readlink")
    check(stat.S_ISLNK(os.lstat(w.p("ln")).st_mode), "lstat of a symlink")
    write(w.p("real"), b"via link")
    os.symlink("real", w.p("ln2"))
    check(read(w.p("ln2")) == b"via link", "open through a symlink")
    os.mkfifo(w.p("fifo"))
    check(stat.S_ISFIFO(os.stat(w.p("fifo")).st_mode), "mkfifo")
    os.mknod(w.p("null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    st = os.stat(w.p("null"))
    check(stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3), "mknod of a char device")
    expect_errno(errno.EEXIST, os.mkdir, w.p("real"))
    expect_errno(errno.ENOTDIR, os.mkdir, w.p("real", "sub"))
    expect_errno(errno.ENOENT, os.stat, w.p("missing"))


def xattrs(w):
    f = w.p("x")
    write(f, b"")
    os.setxattr(f, "user.color", b"blue")
    check(os.getxattr(f, "user.color") == b"blue", "getxattr")
    check("user.color" in os.listxattr(f), "listxattr")
    check(getxattr_sized(f, "user.color", 0) == 4, "the size of a value")
    expect_errno(errno.ERANGE, getxattr_sized, f, "user.color", 2)
    expect_errno(errno.EEXIST, os.setxattr, f, "user.color", b"red", os.XATTR_CREATE)
    expect_errno(errno.ENODATA, os.setxattr, f, "user.shape", b"round", os.XATTR_REPLACE)
    expect_errno(errno.ENODATA, os.getxattr, f, "user.nothing")
    os.removexattr(f, "user.color")
    expect_errno(errno.ENODATA, os.getxattr, f, "user.color")


def mmap_and_locks(w):
    f = w.p("m")
    write(f, b"a" * 8192)
    with open(f, "r+b") as out:
        view = mmap.mmap(out.fileno(), 8192)
        check(view[:4] == b"aaaa", "mmap read")
        view[100:105] = b"HELLO"
        view.flush()
        view.close()
    check(read(f)[100:105] == b"HELLO", "mmap write reaches the file")
    # flock: exclusive between two open files.
    a = open(f, "rb")
    b = open(f, "rb")
    fcntl.flock(a, fcntl.LOCK_EX)
    expect_errno(errno.EWOULDBLOCK, fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(a, fcntl.LOCK_UN)
    fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    a.close()
    b.close()
    # POSIX locks between processes.
    holder = open(f, "r+b")
    fcntl.lockf(holder, fcntl.LOCK_EX)
    done = subprocess.run([sys.executable, "-c",
                           "import fcntl,sys\nf=open(%r,'r+b')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n"
                           " sys.exit(0)\nexcept OSError:\n sys.exit(3)" % f])
    check(done.returncode == 3, "a POSIX lock held by another process blocks")
    holder.close()


def sync_and_statfs(w):
    f = w.p("s")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    os.write(fd, b"durable")
    os.fsync(fd)
    os.fdatasync(fd)
    # fallocate: grow, keep size, punch a hole.
    os.posix_fallocate(fd, 0, 65536)
    check(os.fstat(fd).st_size == 65536, "fallocate grows the file")
    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20)
    check(os.fstat(fd).st_size == 65536, "KEEP_SIZE keeps the size")
    os.pwrite(fd, b"z" * 65536, 0)
    fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 4096, 8192)
    data = os.pread(fd, 65536, 0)
    check(data[:4096] == b"z" * 4096 and data[4096:12288] == b"\0" * 8192 and
          data[12288:] == b"z" * (65536 - 12288), "a punched hole reads as zeros")
    expect_errno(errno.EOPNOTSUPP, fallocate, fd, 0x08, 0, 4096)  # COLLAPSE_RANGE
    os.close(fd)
    dirfd = os.open(w.mnt, os.O_RDONLY)
    os.fsync(dirfd)
    os.close(dirfd)
    st = os.statvfs(w.mnt)
    check(st.f_namemax == 255 and st.f_bsize > 0, "statvfs: namemax %d" % st.f_namemax)


def threads_taking(pid, signum):
    """The threads of `pid` but its main one that do not block `signum`: each may be the one
    a `kill` of the process lands on."""
    taking = []
    for tid in sorted(int(t) for t in os.listdir("/proc/%d/task" % pid)):
        if tid == pid:
            continue
        try:
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                blocked = next(int(line.split()[1], 16) for line in f
                               if line.startswith("SigBlk:"))
            with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
                name = f.read().strip()
        except (OSError, StopIteration):
            continue  # the thread ended meanwhile
        if not blocked & (1 << (signum - 1)):
            taking.append((tid, name))
    return taking


def stop_signal_on_any_thread(w):
    # libfuse's own handler only sets a flag its loop sees when the signal interrupts the
    # loop's own thread; a SIGTERM taken by another thread must unmount just as well.
    with open(w.p("kept"), "wb") as f:
        f.write(b"still here")
    names_tried = set()
    for _ in range(4):
        pid = w.mount.process.pid
        candidates = [t for t in threads_taking(pid, signal.SIGTERM) if t[1] not in names_tried]
        if not candidates:
            break
        tid, name = candidates[0]
        names_tried.add(name)
        check(LIBC.tgkill(pid, tid, signal.SIGTERM) == 0,
              "tgkill: %s" % os.strerror(ctypes.get_errno()))
        wait_until(lambda: w.mount.process.poll() is not None,
                   "lattice-fuse to end on a SIGTERM taken by its thread %s" % name)
        check(w.mount.process.returncode == 0, "exit status %s after SIGTERM on thread %s: %s" % (
            w.mount.process.returncode, name, tail(w.mount.log_path)))
        check(not is_mounted(w.mnt), "still mounted after SIGTERM on thread " + name)
        w.mount.start()
        with open(w.p("kept"), "rb") as f:
            check(f.read() == b"still here", "the file is there after the remount")
    check(len(names_tried) >= 2, "threads tried: %s" % sorted(names_tried))


def big_directory(w):
    d = w.p("many")
    os.mkdir(d)
    names = {"file-%05d" % i for i in range(2000)}
    for name in names:
        os.close(os.open(os.path.join(d, name), os.O_CREAT | os.O_WRONLY, 0o644))
    listed = os.listdir(d)
    check(len(listed) == len(set(listed)), "no name listed twice")
    check(set(listed) == names, "listing has %d of 2000 names" % len(set(listed) & names))
    with os.scandir(d) as entries:
        check(sum(1 for e in entries if e.is_file()) == 2000, "scandir types")
    for name in names:
        os.unlink(os.path.join(d, name))
    check(os.listdir(d) == [], "empty after removing everything")
    os.rmdir(d)


def unlink_while_open(w):
    f = w.p("open-unlinked")
    write(f, b"0123456789")
    fd = os.open(f, os.O_RDWR)
    os.unlink(f)
    expect_errno(errno.ENOENT, os.stat, f)
    check(os.pread(fd, 10, 0) == b"0123456789", "an unlinked open file stays readable")
    os.pwrite(fd, b"abc", 10)
    check(os.pread(fd, 13, 0) == b"0123456789abc", "and writable")
    check(os.fstat(fd).st_nlink == 0, "fstat says nlink 0")
    os.close(fd)
    check(not [n for n in os.listdir(w.mnt) if n.startswith(".fuse_hidden")],
          "no .fuse_hidden file left behind")
    # Replaced by a rename while open: the old content stays readable.
    write(w.p("r"), b"old")
    write(w.p("r.new"), b"new")
    fd = os.open(w.p("r"), os.O_RDONLY)
    os.rename(w.p("r.new"), w.p("r"))
    check(os.pread(fd, 3, 0) == b"old", "a file replaced by rename stays readable")
    os.close(fd)
    check(read(w.p("r")) == b"new", "the new file has the name")


def kernel_restart(w):
    f = w.p("before")
    fd = os.open(f, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"synced before the restart")
    os.fsync(fd)
    os.close(fd)
    w.kernel.kill9()
    results = {}

    def during():
        try:
            write(w.p("during"), b"written while the kernel was down")
            results["ok"] = True
        except OSError as error:
            results["error"] = error

    worker = threading.Thread(target=during)
    worker.start()
    time.sleep(0.5)  # the kernel stays down while the write waits (not a wait for a result)
    w.kernel.start()
    worker.join(timeout=60)
    check(results.get("ok"), "a write while the kernel restarted: %r" % results)
    check(read(f) == b"synced before the restart", "an fsynced file survives kill -9")
    check(read(w.p("during")) == b"written while the kernel was down", "the waiting write")
    check(w.mount.process.poll() is None, "lattice-fuse survived the restart")


def start_second_mount(w):
    """Another lattice-fuse of the same store on <root>/other; returns it and its path."""
    other = os.path.join(w.root, "other")
    os.mkdir(other)
    second = Mount(w.args, w.kernel, w.root, "drive", other)
    second.log_path = os.path.join(w.root, "fuse-other.log")
    second.start()
    return second, other


def closed_then_synced_survive_a_kernel_kill(w):
    """Files closed without fsync have their commits queued (write-back); an fsync of each
    file afterwards, or of their directory, returns only once they are durable: a kill -9 of
    the kernel then loses none of them."""
    d = w.p("batch")
    os.mkdir(d)
    contents = {"f%03d" % i: os.urandom(4096) for i in range(300)}
    for name, data in contents.items():
        write(os.path.join(d, name), data)
    names = sorted(contents)
    # The first half: each file reopened and fsynced.
    for name in names[:150]:
        fd = os.open(os.path.join(d, name), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    # The second half: the directory fsynced.
    dirfd = os.open(d, os.O_RDONLY)
    os.fsync(dirfd)
    os.close(dirfd)
    w.kernel.kill9()
    w.kernel.start()
    # A second mount reads what the restarted kernel has (this one may still hold buffers).
    second, other = start_second_mount(w)
    try:
        lost = [n for n in names if not os.path.exists(os.path.join(other, "batch", n)) or
                read(os.path.join(other, "batch", n)) != contents[n]]
        check(not lost, "%d of 300 synced files lost or damaged by kill -9: %r" % (
            len(lost), lost[:5]))
    finally:
        second.stop()


def closed_file_seen_elsewhere(w):
    """A closed file's commit is queued, not waited for: another mount of the store sees the
    content shortly after (polled), and at once after an fsync."""
    second, other = start_second_mount(w)
    try:
        for i in range(20):
            write(w.p("c%d" % i), b"closed %d" % i)

        def all_seen():
            for i in range(20):
                path = os.path.join(other, "c%d" % i)
                if not os.path.exists(path) or read(path) != b"closed %d" % i:
                    return False
            return True
        wait_until(all_seen, "the closed files on the other mount")
        with open(w.p("synced"), "wb") as f:
            f.write(b"synced")
            f.flush()
            os.fsync(f.fileno())
        shown = w.kernel.ctl("fs", "cat", "drive", "/synced")
        check(shown == "synced", "after fsync the store holds the file: %r" % shown)
        # An edit closed on one mount replaces the content the other one shows.
        write(w.p("c0"), b"edited")
        wait_until(lambda: read(os.path.join(other, "c0")) == b"edited", "the edit elsewhere")
    finally:
        second.stop()


def many_closed_files_seen_elsewhere(w):
    """Hundreds of files closed in a row, of every size the write-back takes (up to 256 KiB,
    so several CommitMany calls split by bytes as well as by count), in two directories: an
    fsync of a directory returns only once every file closed before it is in the store, and
    another mount shows them all with their content."""
    second, other = start_second_mount(w)
    try:
        sizes = [0, 1, 4096, 70000, 256 * 1024, 300]
        expected = {}
        for d in ("one", "two"):
            os.mkdir(w.p(d))
        for i in range(300):
            name = os.path.join("one" if i % 2 else "two", "f%03d" % i)
            size = sizes[i % len(sizes)]
            data = ((b"file %d;" % i) * (size // 6 + 1))[:size]
            write(w.p(name), data)
            expected[name] = data
        fd = os.open(w.p("one"), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        for name in ("one/f299", "two/f298", "one/f003"):
            shown = w.kernel.ctl("fs", "cat", "drive", "/" + name)
            check(shown == expected[name].decode(),
                  "after the directory's fsync the store holds %s (%d bytes shown, %d written)"
                  % (name, len(shown), len(expected[name])))

        def all_seen():
            for name, data in expected.items():
                if read(os.path.join(other, name)) != data:
                    return False
            return True
        wait_until(all_seen, "the %d closed files on the other mount" % len(expected))
        check(sorted(os.listdir(os.path.join(other, "one"))) ==
              sorted(n.split("/")[1] for n in expected if n.startswith("one/")),
              "the other mount lists exactly the files written")
    finally:
        second.stop()


def names_made_elsewhere_on_this_node(w):
    """In a directory this mount made, a new name is answered absent without asking the
    kernel (lattice-fuse's known names). A name another client of this node makes there
    (lattice-ctl) still shows: at once to a create of that name without O_EXCL, which opens
    it, and to a lookup once the mount's watch has heard of it (or, were the watch behind,
    once the answer's trust, the entry timeout, lapses and the directory's times show the
    change)."""
    for d in ("made", "made2"):
        os.mkdir(w.p(d))
        write(w.p(d, "mine"), b"mine")
        check(not os.path.exists(w.p(d, "theirs")), "a name nobody made is absent")
    for path in ("/made/theirs", "/made2/theirs"):
        src = os.path.join(w.root, "theirs.src")
        with open(src, "wb") as f:
            f.write(b"theirs")
        w.kernel.ctl("fs", "put", "drive", path, src)
    with open(w.p("made", "theirs"), "ab") as f:
        f.write(b" and mine")
    check(read(w.p("made", "theirs")) == b"theirs and mine",
          "open(O_CREAT) without O_EXCL opened the file lattice-ctl made")
    # Nothing here touched made2 since: its name shows once the trust lapses.
    wait_until(lambda: os.path.exists(w.p("made2", "theirs")),
               "the name lattice-ctl made, on the mount")
    check(read(w.p("made2", "theirs")) == b"theirs", "its content")
    check(sorted(os.listdir(w.p("made2"))) == ["mine", "theirs"], "the listing")


def unlinks_answered_here(w):
    """Unlinks are answered by lattice-fuse and sent to the kernel in batches (removals.h):
    a name unlinked is gone at once on this mount, and whatever comes next sees it gone (a
    listing, a new file of the same name, a rename onto it, rmdir of the emptied directory);
    an fsync of the directory returns once the store has them all; another mount sees them
    gone; and unlinks still queued when lattice-fuse is stopped reach the store."""
    second, other = start_second_mount(w)
    try:
        for d in ("a", "b", "c"):
            os.makedirs(w.p("tree", d))
            for i in range(200):
                write(w.p("tree", d, "f%03d" % i), b"x%d" % i)
        fd = os.open(w.p("tree"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        for i in range(0, 200, 2):
            os.unlink(w.p("tree", "a", "f%03d" % i))
            check(not os.path.exists(w.p("tree", "a", "f%03d" % i)), "f%03d gone at once" % i)
        kept = ["f%03d" % i for i in range(1, 200, 2)]
        check(sorted(os.listdir(w.p("tree", "a"))) == kept, "the listing leaves them out")
        write(w.p("tree", "a", "f000"), b"new")
        check(read(w.p("tree", "a", "f000")) == b"new", "a new file of a name just unlinked")
        os.unlink(w.p("tree", "a", "f001"))
        os.rename(w.p("tree", "a", "f003"), w.p("tree", "a", "f001"))
        check(read(w.p("tree", "a", "f001")) == b"x3", "a rename onto a name just unlinked")
        check(not os.path.exists(w.p("tree", "a", "f003")), "the renamed name is gone")
        kept = sorted(["f000"] + [n for n in kept if n != "f003"])
        shutil.rmtree(w.p("tree", "b"))  # 200 unlinks, then rmdir of the emptied directory
        check(not os.path.exists(w.p("tree", "b")), "rmdir after the unlinks in it")
        expect_errno(errno.ENOENT, os.unlink, w.p("tree", "a", "never-made"))
        expect_errno(errno.EISDIR, os.unlink, w.p("tree", "c"))
        fd = os.open(w.p("tree"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        stored = w.kernel.ctl("fs", "ls", "drive", "/tree/a").split()
        check(stored == kept, "after the directory's fsync the store lists %d names, not %d: %r"
              % (len(stored), len(kept), sorted(set(stored) ^ set(kept))[:5]))
        wait_until(lambda: sorted(os.listdir(os.path.join(other, "tree", "a"))) == kept,
                   "the unlinks on the other mount")
        check(not os.path.exists(os.path.join(other, "tree", "b")), "the rmdir elsewhere")
        # Unlinks queued when lattice-fuse stops are sent before it ends.
        for i in range(200):
            os.unlink(w.p("tree", "c", "f%03d" % i))
        w.mount.stop()
        left = w.kernel.ctl("fs", "ls", "drive", "/tree/c").split()
        check(left == [], "the unlinks queued at unmount reached the store: %d left" % len(left))
        w.mount.start()
        check(os.listdir(w.p("tree", "c")) == [], "and the mount shows them gone")
    finally:
        second.stop()


def unlinks_stamp_their_directory_here(w):
    """A batch of unlinks, and an rmdir, answer with the time the kernel stamped on their
    directories, which lattice-fuse keeps as the directory's mtime and ctime (and an rmdir
    drops a link of its parent): the FUSE module's GETATTR of the directory before the next
    call there is answered here, not with a GetAttr call after every batch and rmdir, and
    the times and link counts shown are the store's."""
    os.mkdir(w.p("doomed"))
    count = 600
    for i in range(count):
        write(w.p("doomed", "f%03d" % i), b"x")
    write(w.p("first"), b"x")
    os.unlink(w.p("first"))  # the mount answers unlinks once the kernel has taken one
    fsync_dir(w.p("."))
    fsync_dir(w.p("doomed"))
    os.stat(w.p("doomed"))
    before = {m: kernel_calls(w, "Fs", m) for m in ("GetAttr", "RemoveMany")}
    for i in range(count):
        os.unlink(w.p("doomed", "f%03d" % i))
    fsync_dir(w.p("doomed"))
    calls = {m: kernel_calls(w, "Fs", m) - before[m] for m in before}
    # count / 32 batches at least; a GetAttr each before this change. The module and this
    # cache still ask again once a second (the cache time).
    check(calls["RemoveMany"] >= count // 32 and calls["GetAttr"] * 3 < calls["RemoveMany"],
          "%r calls for %d unlinks in one directory" % (calls, count))
    stored = json.loads(w.kernel.ctl("--json", "fs", "stat", "drive", "/doomed"))
    want = [stored[f]["sec"] * 10**9 + stored[f]["nsec"] for f in ("mtime", "ctime")]
    # The FUSE module held the times answered with the unlinks, before the kernel stamped
    # them; once the batch is answered it is told to drop them, well inside its attribute
    # time (30 s).
    wait_until(lambda: [os.stat(w.p("doomed")).st_mtime_ns,
                        os.stat(w.p("doomed")).st_ctime_ns] == want,
               "the directory's times shown as the store's, to the nanosecond", 10.0)
    check(os.listdir(w.p("doomed")) == [], "the listing is empty")
    check(w.kernel.ctl("fs", "ls", "drive", "/doomed").split() == [], "and so is the store's")

    # rmdir (and an unlink sent on its own) answers with its stamp too: the parent's times
    # and link count are followed here.
    dirs = 40
    for d in range(dirs):
        os.mkdir(w.p("doomed", "d%02d" % d))
        for i in range(3):
            write(w.p("doomed", "d%02d" % d, "f%d" % i), b"x")
    fsync_dir(w.p("doomed"))
    check(os.stat(w.p("doomed")).st_nlink == 2 + dirs, "the link count of the parent")
    before = kernel_calls(w, "Fs", "GetAttr")
    for d in range(dirs):
        shutil.rmtree(w.p("doomed", "d%02d" % d))
        links = os.stat(w.p("doomed")).st_nlink
        check(links == 2 + dirs - d - 1, "after %d rmdirs the parent has %d links" % (d + 1, links))
    calls = kernel_calls(w, "Fs", "GetAttr") - before
    check(calls < dirs // 4, "%d GetAttr calls for %d directories removed" % (calls, dirs))
    stored = json.loads(w.kernel.ctl("--json", "fs", "stat", "drive", "/doomed"))
    check(stored["nlink"] == 2, "the store's link count: %r" % stored["nlink"])
    want = [stored[f]["sec"] * 10**9 + stored[f]["nsec"] for f in ("mtime", "ctime")]
    wait_until(lambda: [os.stat(w.p("doomed")).st_mtime_ns,
                        os.stat(w.p("doomed")).st_ctime_ns] == want,
               "the parent's times after the rmdirs shown as the store's")


def files_written_here_read_back_without_the_kernel(w):
    """The content of a small file this mount committed is kept by its version (kept_content.h):
    reading it back (sed -i, git status, a build reading what it generated) costs no Read
    call, even once the FUSE module's page cache lets go of it; a version written elsewhere,
    and a file over the bound, are read from the kernel."""
    os.mkdir(w.p("written"))
    sizes = [1, 100, 4095, 4097, 5000, 70000, 200000]
    contents = {}
    for i in range(40):
        data = os.urandom(sizes[i % len(sizes)])
        contents["f%02d" % i] = data
        write(w.p("written", "f%02d" % i), data)
    big = os.urandom(600_000)
    write(w.p("written", "big"), big)
    fsync_dir(w.p("written"))  # every commit is in

    def read_cold(name):
        fd = os.open(w.p("written", name), os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # the module's page cache
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        finally:
            os.close(fd)

    before = kernel_calls(w, "Fs", "Read")
    for name, data in contents.items():
        check(read_cold(name) == data, "%s reads back what was written" % name)
    calls = kernel_calls(w, "Fs", "Read") - before
    check(calls == 0, "%d Read calls for %d files written here" % (calls, len(contents)))
    before = kernel_calls(w, "Fs", "Read")
    check(read_cold("big") == big, "the big file's content")
    check(kernel_calls(w, "Fs", "Read") > before, "a file over the bound is read from the kernel")
    # Another client writes a new version: read from the kernel, never the kept one.
    src = os.path.join(w.root, "theirs.src")
    with open(src, "wb") as f:
        f.write(b"theirs")
    w.kernel.ctl("fs", "put", "drive", "/written/f03", src)
    wait_until(lambda: read_cold("f03") == b"theirs", "the other client's version read back")
    write(w.p("written", "f03"), b"mine again")
    fsync_dir(w.p("written"))
    check(read_cold("f03") == b"mine again", "this mount's newer version")


def unlinks_answered_here_remove_only_what_was_unlinked(w):
    """An unlink answered here is sent later, and another client (here a second mount) may
    put a new file under the name meanwhile: that file stays, as it would had the unlink
    reached the store at once. (Without the inode in the removal, the batch removed it.)"""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("d"))
        write(w.p("d", "first"), b"proves the kernel takes unlinks")
        os.unlink(w.p("d", "first"))
        rounds = 20
        for i in range(rounds):
            write(w.p("d", "x%d" % i), b"old")
            write(os.path.join(other, "d", "new%d" % i), b"new %d" % i)
        wait_until(lambda: all(os.path.exists(os.path.join(other, "d", "x%d" % i))
                               for i in range(rounds)), "the files on the second mount")
        for i in range(rounds):
            os.unlink(w.p("d", "x%d" % i))  # answered here, sent within a moment
            os.rename(os.path.join(other, "d", "new%d" % i), os.path.join(other, "d", "x%d" % i))
        fd = os.open(w.p("d"), os.O_RDONLY)
        os.fsync(fd)  # every unlink queued here has reached the store
        os.close(fd)
        stored = sorted(w.kernel.ctl("fs", "ls", "drive", "/d").split())
        want = sorted("x%d" % i for i in range(rounds))
        check(stored == want, "the store keeps the files renamed into place: %r" % stored)
        for i in range(rounds):
            wait_until(lambda: read(w.p("d", "x%d" % i)) == b"new %d" % i, "x%d on this mount" % i)
    finally:
        second.stop()


def unlinks_refused_to_a_read_only_token(w):
    """A mount whose token may read but not write answers no unlink itself: each one is
    refused with the kernel's answer, and every file stays."""
    for i in range(5):
        write(w.p("f%d" % i), b"kept %d" % i)
    fd = os.open(w.mnt, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    out = w.kernel.ctl("token", "create", "reader", "--store", "drive", "--rights", "read,watch")
    token_file = os.path.join(w.root, "reader.token")
    with open(token_file, "w") as f:
        f.write(re.search(r"token:\s*(\S+)", out).group(1))
    os.chmod(token_file, 0o600)
    path = os.path.join(w.root, "reader")
    os.mkdir(path)
    reader = Mount(w.args, w.kernel, w.root, "drive", path, extra=["--token-file", token_file])
    reader.log_path = os.path.join(w.root, "fuse-reader.log")
    reader.start()
    try:
        check(read(os.path.join(path, "f0")) == b"kept 0", "the reader reads")
        for i in range(5):
            expect_errno(errno.EACCES, os.unlink, os.path.join(path, "f%d" % i))
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError:
            pass  # a reader may not ask for a sync either; what counts is below
        finally:
            os.close(fd)
        stored = w.kernel.ctl("fs", "ls", "drive", "/").split()
        check(stored == ["f%d" % i for i in range(5)], "every file stays: %r" % stored)
        check(sorted(os.listdir(path)) == stored, "and the reader lists them all")
    finally:
        reader.stop()


def other_clients_of_this_node_heard(w):
    """With names and attributes kept for five minutes (--cache-seconds 300), what another
    client of this node changes (lattice-ctl) shows on the mount as soon as the mount's watch
    hears it, long before the cache time: a new file where a lookup found none, new content
    of a file read before, a file removed after it was looked up, and the listing of a
    directory listed before (which the FUSE kernel module keeps across opens)."""
    w.mount.stop()
    w.mount = Mount(w.args, w.kernel, w.root, "drive", w.mnt, extra=["--cache-seconds", "300"])
    w.mount.start()
    os.mkdir(w.p("d"))
    write(w.p("d", "old"), b"old")
    write(w.p("d", "gone"), b"gone")
    fd = os.open(w.p("d"), os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    # What the FUSE kernel module now keeps: the content, a name and a missing name.
    check(read(w.p("d", "old")) == b"old", "the file as written")
    check(os.path.exists(w.p("d", "gone")), "a name looked up")
    check(not os.path.exists(w.p("d", "new")), "a name not there yet")
    check(sorted(os.listdir(w.p("d"))) == ["gone", "old"], "the listing before")
    srcs = {}
    for name, data in (("new", b"made by lattice-ctl"), ("old", b"changed by lattice-ctl")):
        srcs[name] = os.path.join(w.root, name + ".src")
        with open(srcs[name], "wb") as f:
            f.write(data)
    w.kernel.ctl("fs", "put", "drive", "/d/new", srcs["new"])
    w.kernel.ctl("fs", "put", "drive", "/d/old", srcs["old"])
    w.kernel.ctl("fs", "rm", "drive", "/d/gone")
    # Its attributes first: lattice-fuse answers them itself since it read the file, until
    # the watch says the file changed.
    wait_until(lambda: os.stat(w.p("d", "old")).st_size == len(b"changed by lattice-ctl"),
               "the size lattice-ctl gave the file read before")
    wait_until(lambda: read(w.p("d", "new")) == b"made by lattice-ctl", "the file lattice-ctl made")
    wait_until(lambda: read(w.p("d", "old")) == b"changed by lattice-ctl",
               "the content lattice-ctl wrote")
    wait_until(lambda: not os.path.exists(w.p("d", "gone")), "the name lattice-ctl removed")
    wait_until(lambda: sorted(os.listdir(w.p("d"))) == ["new", "old"], "the listing")


def creates_answered_here(w):
    """New files in a directory this mount made are answered by lattice-fuse with the inode
    id it mints itself (creates.h) and reach the kernel with their first content, many to a
    CommitMany and none by Fs.Create: the id is the one the kernel then gives the file (the
    other mount sees the same st_ino); whatever asks the kernel next sees them (a listing, a
    link, a rename, the directory's fsync, lattice-ctl after it); a file still open is in the
    store once anything asked; an empty file is made too; and the creates still waiting when
    lattice-fuse is stopped reach the store."""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("made"))
        creates = kernel_calls(w, "Fs", "Create")
        batches = kernel_calls(w, "Fs", "CommitMany")
        count = 300
        for i in range(count):
            write(w.p("made", "f%03d" % i), b"content %d" % i)
        open(w.p("made", "empty"), "wb").close()
        made = kernel_calls(w, "Fs", "Create") - creates
        calls = kernel_calls(w, "Fs", "CommitMany") - batches
        check(made == 0, "%d Fs.Create calls for files created in a directory made here" % made)
        check(calls < count // 4, "%d CommitMany calls carried %d new files" % (calls, count))
        names = sorted(["f%03d" % i for i in range(count)] + ["empty"])
        check(sorted(os.listdir(w.p("made"))) == names, "the listing shows every new file")
        fd = os.open(w.p("made"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        stored = w.kernel.ctl("fs", "ls", "drive", "/made").split()
        check(stored == names, "the store lists %d of %d files" % (len(stored), len(names)))
        check(w.kernel.ctl("fs", "cat", "drive", "/made/f123") == "content 123",
              "the content went with the create")
        wait_until(lambda: os.path.exists(os.path.join(other, "made", "f299")),
                   "the new files on the other mount")
        for name in ("f000", "f150", "empty"):
            here, there = os.stat(w.p("made", name)), os.stat(os.path.join(other, "made", name))
            check(here.st_ino == there.st_ino,
                  "%s: inode %d here, %d on the other mount" % (name, here.st_ino, there.st_ino))
            check(read(os.path.join(other, "made", name)) == read(w.p("made", name)), name)
        # Files still open: in the store once anything asks the kernel, content at close.
        held = [open(w.p("made", "open%d" % i), "wb") for i in range(3)]
        for i, f in enumerate(held):
            f.write(b"open %d" % i)
            f.flush()
        os.link(w.p("made", "open0"), w.p("made", "linked"))
        check(os.stat(w.p("made", "open0")).st_nlink == 2, "a link of a file still being made")
        os.rename(w.p("made", "open1"), w.p("made", "renamed"))
        stored = w.kernel.ctl("fs", "ls", "drive", "/made").split()
        check({"open0", "linked", "renamed", "open2"} <= set(stored),
              "files still open are in the store: %r" % sorted(set(stored) - set(names)))
        for f in held:
            f.close()
        fd = os.open(w.p("made"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        check(w.kernel.ctl("fs", "cat", "drive", "/made/renamed") == "open 1",
              "the content of a file renamed while open")
        check(w.kernel.ctl("fs", "cat", "drive", "/made/linked") == "open 0",
              "the content of a file linked while open")
        # Creates still waiting when lattice-fuse stops are sent before it ends.
        os.mkdir(w.p("last"))
        for i in range(50):
            write(w.p("last", "g%02d" % i), b"last %d" % i)
        w.mount.stop()
        left = w.kernel.ctl("fs", "ls", "drive", "/last").split()
        check(len(left) == 50, "the creates waiting at unmount reached the store: %d" % len(left))
        check(w.kernel.ctl("fs", "cat", "drive", "/last/g49") == "last 49", "with their content")
        w.mount.start()
    finally:
        second.stop()


def directories_made_here(w):
    """Directories made in a directory this mount made are answered by lattice-fuse too
    (creates.h), their creates sent before those of the files made in them: a tree unpacked
    into the mount needs no Fs.Create call at all; it reaches the store whole, another mount
    sees it with the same inode numbers, and an empty directory made here can be removed, a
    directory renamed and one left waiting at unmount all come out right."""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("tree"))
        creates = kernel_calls(w, "Fs", "Create")
        paths = []
        for top in ("a", "b"):
            for sub in ("x", "y", "z"):
                os.makedirs(w.p("tree", top, sub, "deep"))
                for i in range(5):
                    path = os.path.join(top, sub, "deep", "f%d" % i)
                    write(w.p("tree", path), path.encode())
                    paths.append(path)
        os.makedirs(w.p("tree", "empty", "inside"))
        made = kernel_calls(w, "Fs", "Create") - creates
        check(made == 0, "%d Fs.Create calls for a tree made in a directory made here" % made)
        os.rmdir(w.p("tree", "empty", "inside"))
        os.mkdir(w.p("tree", "moving"))
        write(w.p("tree", "moving", "f"), b"moved with its directory")
        os.rename(w.p("tree", "moving"), w.p("tree", "moved"))
        fd = os.open(w.p("tree"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        check(w.kernel.ctl("fs", "ls", "drive", "/tree").split() == ["a", "b", "empty", "moved"],
              "the store's tree")
        check(w.kernel.ctl("fs", "ls", "drive", "/tree/empty").split() == [],
              "the directory removed while its create waited")
        check(w.kernel.ctl("fs", "cat", "drive", "/tree/b/z/deep/f4") == "b/z/deep/f4",
              "a file three directories down")
        check(w.kernel.ctl("fs", "cat", "drive", "/tree/moved/f") == "moved with its directory",
              "a file in a directory renamed")
        wait_until(lambda: all(os.path.exists(os.path.join(other, "tree", p)) for p in paths),
                   "the tree on the other mount")
        for path in ("a", "a/x/deep", "b/z/deep/f4"):
            here, there = os.stat(w.p("tree", path)), os.stat(os.path.join(other, "tree", path))
            check(here.st_ino == there.st_ino,
                  "%s: inode %d here, %d on the other mount" % (path, here.st_ino, there.st_ino))
        check(os.stat(w.p("tree", "a")).st_nlink == 5, "a directory's links: . .. and x y z")
        # Directories and files still waiting at unmount reach the store.
        os.makedirs(w.p("tree", "last", "one"))
        write(w.p("tree", "last", "one", "f"), b"last")
        w.mount.stop()
        check(w.kernel.ctl("fs", "cat", "drive", "/tree/last/one/f") == "last",
              "the tree waiting at unmount")
        w.mount.start()
    finally:
        second.stop()


def renames_of_new_files_answered_here(w):
    """A file written under a temporary name and renamed into place, as rsync and git do,
    in directories this mount made: the rename is answered by lattice-fuse while the file's
    create waits, which then goes under the new name with the content (no Fs.Rename call);
    the store, this mount and another mount show the final names only. A rename onto a name
    that exists still replaces it (through the kernel), and a rename into another directory
    made here is answered here too."""
    second, other = start_second_mount(w)
    try:
        os.makedirs(w.p("dst", "sub"))
        write(w.p("dst", "kept"), b"old")
        fd = os.open(w.p("dst"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        renames = kernel_calls(w, "Fs", "Rename")
        count = 100
        for i in range(count):
            write(w.p("dst", ".f%03d.tmp" % i), b"file %d" % i)
            os.rename(w.p("dst", ".f%03d.tmp" % i), w.p("dst", "f%03d" % i))
        write(w.p("dst", ".moved.tmp"), b"moved")
        os.rename(w.p("dst", ".moved.tmp"), w.p("dst", "sub", "moved"))
        # A batch of the write-back may take a file's create between its close and its
        # rename (at most the newest file of each batch): that rename goes to the kernel.
        calls = kernel_calls(w, "Fs", "Rename") - renames
        check(calls < count // 4, "%d Fs.Rename calls for %d files renamed before their create" %
              (calls, count + 1))
        write(w.p("dst", ".kept.tmp"), b"new")
        os.rename(w.p("dst", ".kept.tmp"), w.p("dst", "kept"))  # replaces: through the kernel
        names = sorted(["f%03d" % i for i in range(count)] + ["kept", "sub"])
        check(sorted(os.listdir(w.p("dst"))) == names, "the listing shows the final names")
        check(os.listdir(w.p("dst", "sub")) == ["moved"], "the file moved into sub")
        fd = os.open(w.p("dst"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        check(w.kernel.ctl("fs", "ls", "drive", "/dst").split() == names,
              "the store lists the final names only")
        check(w.kernel.ctl("fs", "cat", "drive", "/dst/f042") == "file 42", "content renamed")
        check(w.kernel.ctl("fs", "cat", "drive", "/dst/sub/moved") == "moved", "moved")
        check(w.kernel.ctl("fs", "cat", "drive", "/dst/kept") == "new", "the replaced file")
        wait_until(lambda: sorted(os.listdir(os.path.join(other, "dst"))) == names,
                   "the final names on the other mount")
        check(read(os.path.join(other, "dst", "f099")) == b"file 99", "and their content")
    finally:
        second.stop()


def renames_over_files_answered_here(w):
    """A new file renamed over an existing one, as sed -i and editors save: the rename is
    answered by lattice-fuse while the new file's create waits, which then goes with its
    content and unlinks the old file in the same intention (no Fs.Rename call). The store,
    this mount and another mount show the new content under the old names; the replaced
    file's other hard link keeps the old content with one link less; a file still open, a
    directory, and RENAME_NOREPLACE go through the kernel and keep their meaning."""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("edit"))
        count = 100
        for i in range(count):
            write(w.p("edit", "f%03d" % i), b"old %d" % i)
        # The link elsewhere: a link made in a directory makes this mount ask the kernel
        # about its names again (known_names.h), and with them about its creates.
        os.mkdir(w.p("links"))
        os.link(w.p("edit", "f000"), w.p("links", "also"))
        os.mkdir(w.p("edit", "dir"))
        fd = os.open(w.p("edit"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        renames = kernel_calls(w, "Fs", "Rename")
        for i in range(count):
            old = read(w.p("edit", "f%03d" % i))  # what sed does: read, write aside, rename
            write(w.p("edit", ".sed%03d" % i), old.replace(b"old", b"new"))
            os.rename(w.p("edit", ".sed%03d" % i), w.p("edit", "f%03d" % i))
        calls = kernel_calls(w, "Fs", "Rename") - renames
        check(calls < count // 4, "%d Fs.Rename calls for %d files renamed over others" %
              (calls, count))
        check(read(w.p("edit", "f042")) == b"new 42", "the new content here")
        check(read(w.p("links", "also")) == b"old 0", "the other link keeps the old content")
        check(os.stat(w.p("links", "also")).st_nlink == 1, "with one link less")
        # GNU sed itself, on every file at once.
        subprocess.run(["sed", "-i", "s/new/sed/", *[w.p("edit", "f%03d" % i)
                                                      for i in range(count)]], check=True)
        check(read(w.p("edit", "f099")) == b"sed 99", "sed -i's result here")
        # Through the kernel: over a file open here (still readable through its descriptor),
        # over a directory (EISDIR), and RENAME_NOREPLACE (EEXIST).
        held = open(w.p("edit", "f001"), "rb")
        write(w.p("edit", ".held"), b"replaced while open")
        os.rename(w.p("edit", ".held"), w.p("edit", "f001"))
        check(held.read() == b"sed 1", "the open file replaced is still readable")
        held.close()
        write(w.p("edit", ".dir"), b"not over a directory")
        expect_errno(errno.EISDIR, os.rename, w.p("edit", ".dir"), w.p("edit", "dir"))
        expect_errno(errno.EEXIST, renameat2, w.p("edit", ".dir"), w.p("edit", "f002"),
                     RENAME_NOREPLACE)
        os.unlink(w.p("edit", ".dir"))
        fd = os.open(w.p("edit"), os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        names = sorted(["f%03d" % i for i in range(count)] + ["dir"])
        check(sorted(os.listdir(w.p("edit"))) == names, "the listing: the old names only")
        check(w.kernel.ctl("fs", "ls", "drive", "/edit").split() == names,
              "the store lists the old names only, no conflict copy")
        check(w.kernel.ctl("fs", "cat", "drive", "/edit/f042") == "sed 42", "the store's content")
        check(w.kernel.ctl("fs", "cat", "drive", "/edit/f001") == "replaced while open",
              "the file renamed over an open one")
        check(w.kernel.ctl("fs", "cat", "drive", "/links/also") == "old 0", "the other link")
        wait_until(lambda: read(os.path.join(other, "edit", "f099")) == b"sed 99",
                   "the new content on the other mount")
        check(sorted(os.listdir(os.path.join(other, "edit"))) == names,
              "the other mount's listing")
        # A rename the kernel makes (both files known to it) tells which inodes it changed:
        # the replaced file's other link shows one link less, though its attributes were held.
        os.link(w.p("edit", "f006"), w.p("links", "six"))
        check(os.stat(w.p("links", "six")).st_nlink == 2, "two links before")
        before = os.stat(w.p("edit", "f005")).st_ctime_ns
        os.rename(w.p("edit", "f005"), w.p("edit", "f006"))
        check(os.stat(w.p("links", "six")).st_nlink == 1, "the replaced file's links after")
        check(os.stat(w.p("edit", "f006")).st_ctime_ns >= before, "the moved file's ctime")
        check(read(w.p("edit", "f006")) == b"sed 5", "the moved file's content")
    finally:
        second.stop()


def directories_listed_here_known(w):
    """A directory this mount did not make (made before a remount) becomes known once it is
    listed whole: the creates and renames over files in it are then answered here as in a
    directory the mount made (no Fs.Create call), a listing longer than one FUSE buffer
    included; a name another client adds afterwards is heard through the watch and not
    mistaken for free."""
    os.makedirs(w.p("old", "big"))
    for i in range(20):
        write(w.p("old", "f%02d" % i), b"old %d" % i)
    for i in range(400):
        write(w.p("old", "big", "entry-with-a-longish-name-%03d" % i), b"x")
    w.mount.stop()
    w.mount.start()
    creates = kernel_calls(w, "Fs", "Create")
    renames = kernel_calls(w, "Fs", "Rename")
    check(len(os.listdir(w.p("old"))) == 21, "the listing after the remount")
    check(len(os.listdir(w.p("old", "big"))) == 400, "the long listing")
    for i in range(30):
        write(w.p("old", "new%02d" % i), b"new %d" % i)
        write(w.p("old", "big", "new%02d" % i), b"new %d" % i)
    for i in range(20):  # as sed -i does
        write(w.p("old", ".sed%02d" % i), read(w.p("old", "f%02d" % i)).replace(b"old", b"sed"))
        os.rename(w.p("old", ".sed%02d" % i), w.p("old", "f%02d" % i))
    made = kernel_calls(w, "Fs", "Create") - creates
    check(made < 6, "%d Fs.Create calls for 60 files made in directories listed here" % made)
    moved = kernel_calls(w, "Fs", "Rename") - renames
    check(moved < 6, "%d Fs.Rename calls for 20 files renamed over others" % moved)
    fd = os.open(w.p("old"), os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    check(w.kernel.ctl("fs", "cat", "drive", "/old/f07") == "sed 7", "a replaced file's content")
    check(w.kernel.ctl("fs", "cat", "drive", "/old/big/new29") == "new 29", "a new file's content")
    check(len(w.kernel.ctl("fs", "ls", "drive", "/old").split()) == 51, "the store's listing")
    # Another client adds a name after the listing: the mount hears it and does not answer
    # a create of it as free.
    src = os.path.join(w.root, "late.src")
    with open(src, "wb") as f:
        f.write(b"from lattice-ctl")
    w.kernel.ctl("fs", "put", "drive", "/old/late", src)
    wait_until(lambda: os.path.exists(w.p("old", "late")), "the name added elsewhere, here")
    expect_errno(errno.EEXIST, os.open, w.p("old", "late"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    check(read(w.p("old", "late")) == b"from lattice-ctl", "its content")


def opens_answered_here(w):
    """Close-to-open without a call per open: once the mount's watch has heard every change
    the kernel applied (its cursor is the store's published witness), an open of a file whose
    attributes the mount holds asks the kernel nothing; yet the first open after another
    client's write returned (a second mount's fsync, lattice-ctl fs put) reads that write,
    every time. A directory made here is listed here, one read whole from the kernel too
    (the end of its listing answered here after the page that reached it)."""
    names = ["o%03d" % i for i in range(200)]
    for name in names:
        with open(w.p(name), "wb") as f:
            f.write(b"first " + name.encode())
            f.flush()
            os.fsync(f.fileno())

    def getattrs_for_opens():
        before = kernel_calls(w, "Fs", "GetAttr")
        for name in names:
            check(read(w.p(name)) == b"first " + name.encode(), "the content of " + name)
        return kernel_calls(w, "Fs", "GetAttr") - before
    # The watch reaches the cursor of the mount's own commits a moment after their answers.
    wait_until(lambda: getattrs_for_opens() < 20, "200 opens answered without a GetAttr each")

    # A directory made here is listed here; one made by another client is read from the
    # kernel once (its end answered here), then listed here too; a name another client adds
    # to either shows.
    os.mkdir(w.p("listed"))
    for i in range(10):
        write(w.p("listed", "e%d" % i), b"e")
    made = ["e%d" % i for i in range(10)]
    before = kernel_calls(w, "Fs", "ReadDir")
    check(sorted(os.listdir(w.p("listed"))) == made, "the listing")
    listed = kernel_calls(w, "Fs", "ReadDir") - before
    check(listed == 0, "%d Fs.ReadDir calls for a directory made here" % listed)
    # What a listing here shows of a subdirectory follows the directories made in it.
    os.mkdir(w.p("listed", "sub"))
    check("sub" in os.listdir(w.p("listed")), "the subdirectory listed")
    os.mkdir(w.p("listed", "sub", "inner"))
    check("sub" in os.listdir(w.p("listed")), "listed again")
    check(os.stat(w.p("listed", "sub")).st_nlink == 3, "the subdirectory's links: %d"
          % os.stat(w.p("listed", "sub")).st_nlink)
    os.rmdir(w.p("listed", "sub", "inner"))
    os.rmdir(w.p("listed", "sub"))
    src = os.path.join(w.root, "round.src")
    write(src, b"put")
    w.kernel.ctl("fs", "mkdir", "drive", "/elsewhere")
    for name in made:
        w.kernel.ctl("fs", "put", "drive", "/elsewhere/" + name, src)
    wait_until(lambda: os.path.isdir(w.p("elsewhere")), "the directory made elsewhere")
    before = kernel_calls(w, "Fs", "ReadDir")
    check(sorted(os.listdir(w.p("elsewhere"))) == made, "the listing made elsewhere")
    listed = kernel_calls(w, "Fs", "ReadDir") - before
    check(listed == 1, "%d Fs.ReadDir calls for a listing of one page, its end answered here"
          % listed)
    for d in ("listed", "elsewhere"):
        w.kernel.ctl("fs", "put", "drive", "/%s/added" % d, src)
        wait_until(lambda: "added" in os.listdir(w.p(d)), "the name added to " + d)
        check(sorted(os.listdir(w.p(d))) == sorted(made + ["added"]), "%s listed" % d)

    second, other = start_second_mount(w)
    try:
        with open(w.p("shared"), "wb") as f:
            f.write(b"round 000")
            f.flush()
            os.fsync(f.fileno())
        wait_until(lambda: read(os.path.join(other, "shared")) == b"round 000",
                   "the file on the second mount")
        for i in range(1, 61):
            data = b"round %03d" % i
            if i % 3 == 0:
                write(src, data)
                w.kernel.ctl("fs", "put", "drive", "/shared", src)
            else:
                with open(os.path.join(other, "shared"), "r+b") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            shown = read(w.p("shared"))
            check(shown == data, "round %d: the first open after the write returned reads %r"
                  % (i, shown))
    finally:
        second.stop()
    # While the watch is away (the kernel started again, the mount not yet back on it), a
    # change made meanwhile is still read by the first open after it.
    for i in range(61, 66):
        check(read(w.p("shared")) == b"round %03d" % (i - 1), "round %d: held again" % i)
        w.kernel.stop()
        w.kernel.start()
        data = b"round %03d" % i
        write(src, data)
        w.kernel.ctl("fs", "put", "drive", "/shared", src)
        shown = read(w.p("shared"))
        check(shown == data, "round %d, after a restart: the first open reads %r" % (i, shown))


def create_of_a_name_taken_meanwhile_kept(w):
    """A file answered here whose name another client takes before the create reaches the
    kernel is not lost: it is kept under a conflict name with its content, and the other
    client's file keeps the name, as between two nodes."""
    os.mkdir(w.p("race"))
    mine = open(w.p("race", "x"), "wb")  # answered here: nothing is sent while it is open
    mine.write(b"made on the mount")
    theirs = os.path.join(w.root, "theirs.src")
    with open(theirs, "wb") as f:
        f.write(b"made by lattice-ctl")
    w.kernel.ctl("fs", "put", "drive", "/race/x", theirs)
    mine.close()
    fd = os.open(w.p("race"), os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    stored = w.kernel.ctl("fs", "ls", "drive", "/race").split()
    copies = [n for n in stored if n.startswith("x.sync-conflict-")]
    check("x" in stored and len(copies) == 1, "the name and one conflict copy: %r" % stored)
    check(w.kernel.ctl("fs", "cat", "drive", "/race/x") == "made by lattice-ctl",
          "the other client's file keeps the name")
    check(w.kernel.ctl("fs", "cat", "drive", "/race/" + copies[0]) == "made on the mount",
          "the mount's file, with its content, under the conflict name")
    wait_until(lambda: sorted(os.listdir(w.p("race"))) == sorted(["x"] + copies),
               "the mount lists both")


def times_shown_at_close_kept(w):
    """A file keeps the mtime and ctime it showed when it was closed once its commit lands
    (the write-back commits after close): a new file, an edit of a saved one and a file
    chmodded after writing, as another mount sees them from the store. And git, which
    records both at checkout, finds no file changed after a clone into the mount."""
    write(w.p("saved"), b"first version")
    fsync_dir(w.mnt)
    write(w.p("new"), b"a new file")
    write(w.p("saved"), b"edited")
    write(w.p("chmodded"), b"written, then chmodded")
    os.chmod(w.p("chmodded"), 0o600)
    names = ["new", "saved", "chmodded"]
    shown = {n: (os.stat(w.p(n)).st_mtime_ns, os.stat(w.p(n)).st_ctime_ns) for n in names}
    fsync_dir(w.mnt)  # every commit has landed
    second, other = start_second_mount(w)
    try:
        for n in names:
            st = os.stat(os.path.join(other, n))
            check((st.st_mtime_ns, st.st_ctime_ns) == shown[n],
                  "%s: shown at close %r, stored %r" % (n, shown[n],
                                                        (st.st_mtime_ns, st.st_ctime_ns)))
    finally:
        second.stop()
    source = os.path.join(w.root, "source")
    os.mkdir(source)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run(git + ["init", "-q", source], check=True)
    for i in range(60):
        d = os.path.join(source, "d%d" % (i % 6))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%d.txt" % i), "w") as f:
            f.write("line %d\n" % i * (i + 1))
    subprocess.run(git + ["-C", source, "add", "."], check=True)
    subprocess.run(git + ["-C", source, "commit", "-q", "-m", "files"], check=True)
    subprocess.run(git + ["clone", "-q", "--no-local", source, w.p("repo")], check=True)
    fsync_dir(w.mnt)
    dirty = subprocess.run(["git", "-C", w.p("repo"), "diff-files", "--name-only"],
                           capture_output=True, text=True, check=True).stdout.split()
    check(dirty == [], "files whose times moved since checkout: %r" % dirty)


def start_debugged_mount(w):
    """A second mount of the store at the root's "debugged" that logs every FUSE request: its
    path, its Mount, and a count of the requests of one opcode logged so far."""
    path = os.path.join(w.root, "debugged")
    os.mkdir(path)
    debugged = Mount(w.args, w.kernel, w.root, "drive", path, extra=["--fuse-debug"])
    debugged.log_path = os.path.join(w.root, "fuse-debugged.log")
    debugged.start()

    def requests(opcode):
        with open(debugged.log_path, errors="replace") as f:
            return f.read().count("opcode: %s (" % opcode)
    return path, debugged, requests


def reads_close_without_a_flush(w):
    """A descriptor opened only to read closes without a FLUSH request, as it has nothing of
    its own to save (FOPEN_NOFLUSH): the close of each file git status or grep reads waits
    for no round trip. One opened to write still flushes, and its writes are saved."""
    path, debugged, requests = start_debugged_mount(w)

    def flushes():
        return requests("FLUSH")
    try:
        write(os.path.join(path, "f"), b"first")
        before = flushes()
        for _ in range(20):
            check(read(os.path.join(path, "f")) == b"first", "read back")
        check(flushes() == before, "%d FLUSH requests for 20 reads" % (flushes() - before))
        with open(os.path.join(path, "f"), "r+b") as f:
            f.write(b"again")
        check(flushes() > before, "the close of a descriptor that wrote flushes")
        fsync_dir(path)
        check(w.kernel.ctl("fs", "cat", "drive", "/f") == "again", "and its write is saved")
    finally:
        debugged.stop()


def files_written_here_reopened_from_the_page_cache(w):
    """A file this mount wrote and committed is read again at its next open without a READ
    request: its content is stored into the FUSE module's page cache (the last page a write
    ended inside would be read again otherwise; git status after a clone rereads every file it
    wrote). What is read is the version last written, also after a rewrite in place, and a
    version another client of the node put is read from the kernel, never the stored one."""
    path, debugged, requests = start_debugged_mount(w)

    def reads():
        return requests("READ")
    try:
        contents = {}
        for i, size in enumerate([1, 100, 4095, 4096, 4097, 5000, 70000, 200000]):
            contents["f%d" % i] = os.urandom(size)
            write(os.path.join(path, "f%d" % i), contents["f%d" % i])
        fsync_dir(path)  # every commit is in, its content kept by the mount
        before = reads()
        for name, data in contents.items():
            check(read(os.path.join(path, name)) == data, "%s reads back what was written" % name)
        check(reads() == before, "%d READ requests for %d files written here"
              % (reads() - before, len(contents)))
        with open(os.path.join(path, "f5"), "r+b") as f:  # rewritten in place, shorter
            f.write(b"shorter")
            f.truncate(7)
        fsync_dir(path)
        before = reads()
        check(read(os.path.join(path, "f5")) == b"shorter", "the rewrite is read back")
        check(reads() == before, "the rewrite is read back without a READ request")
        src = os.path.join(w.root, "theirs.src")
        write(src, b"theirs, longer than one byte")
        w.kernel.ctl("fs", "put", "drive", "/f0", src)
        wait_until(lambda: read(os.path.join(path, "f0")) == b"theirs, longer than one byte",
                   "the other client's version read")
    finally:
        debugged.stop()


def lookups_of_known_files_answered_here(w):
    """The FUSE module looks up the target of every rename again; in a directory whose names
    this mount knows, the file there is answered from what the mount holds, so saving over a
    file as sed -i does costs no Fs.Lookup call. A file another client put under a known name
    (here a second mount, renaming a new file over it) is the one seen here, new inode and
    content, once the watch has brought the change."""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("saved"))
        count = 40
        for i in range(count):
            write(w.p("saved", "f%02d" % i), b"first %d" % i)
        fsync_dir(w.p("saved"))
        lookups = kernel_calls(w, "Fs", "Lookup")
        for i in range(count):
            write(w.p("saved", ".tmp%02d" % i), b"second %d" % i)
            os.rename(w.p("saved", ".tmp%02d" % i), w.p("saved", "f%02d" % i))
        calls = kernel_calls(w, "Fs", "Lookup") - lookups
        check(calls < count // 4, "%d Fs.Lookup calls for %d files saved over" % (calls, count))
        check(read(w.p("saved", "f07")) == b"second 7", "the saved content")
        fsync_dir(w.p("saved"))
        wait_until(lambda: read(os.path.join(other, "saved", "f07")) == b"second 7",
                   "the other mount sees the saved file")
        write(os.path.join(other, "saved", ".theirs"), b"theirs")
        os.rename(os.path.join(other, "saved", ".theirs"), os.path.join(other, "saved", "f07"))
        fsync_dir(os.path.join(other, "saved"))
        theirs = os.stat(os.path.join(other, "saved", "f07")).st_ino
        wait_until(lambda: os.stat(w.p("saved", "f07")).st_ino == theirs,
                   "this mount looks up the other mount's file under the name")
        check(read(w.p("saved", "f07")) == b"theirs", "and reads its content")
        check(sorted(os.listdir(w.p("saved"))) == ["f%02d" % i for i in range(count)],
              "the listing has the names once each")
    finally:
        second.stop()


def renames_through_the_kernel_keep_held_attributes(w):
    """A file renamed through the kernel (its create was sent, as rsync's temporary files'
    are by the time it renames them into place) keeps the attributes the mount holds, with
    the ctime the kernel stamped: opening it after costs no Fs.GetAttr call, and the ctime
    shown here is the one another mount reads from the kernel."""
    second, other = start_second_mount(w)
    try:
        os.mkdir(w.p("moving"))
        count = 30
        names = ["f%02d" % i for i in range(count)]
        for i, name in enumerate(names):
            write(w.p("moving", name), b"content %d" % i)
        fsync_dir(w.p("moving"))  # their creates are in: the renames go through the kernel
        before = {name: os.stat(w.p("moving", name)).st_ctime_ns for name in names}
        renames = kernel_calls(w, "Fs", "Rename")
        for name in names:
            os.rename(w.p("moving", name), w.p("moving", "g" + name[1:]))
        check(kernel_calls(w, "Fs", "Rename") - renames == count,
              "the renames went through the kernel")
        getattrs = kernel_calls(w, "Fs", "GetAttr")
        for i, name in enumerate(names):
            check(read(w.p("moving", "g" + name[1:])) == b"content %d" % i, "the content")
        calls = kernel_calls(w, "Fs", "GetAttr") - getattrs
        check(calls < count // 4, "%d Fs.GetAttr calls to open %d files renamed" % (calls, count))
        fsync_dir(w.p("moving"))
        for name in names:
            moved = "g" + name[1:]
            here = os.stat(w.p("moving", moved)).st_ctime_ns
            check(here > before[name], "%s's ctime moved with the rename" % moved)
            wait_until(lambda: os.path.exists(os.path.join(other, "moving", moved)),
                       "the other mount sees %s" % moved)
            there = os.stat(os.path.join(other, "moving", moved)).st_ctime_ns
            check(here == there, "%s's ctime here %d, from the kernel %d" % (moved, here, there))
    finally:
        second.stop()


def kernel_calls(w, service, method):
    """How many calls of service.method the kernel has answered (lattice-ctl metrics)."""
    metrics = json.loads(w.kernel.ctl("--json", "metrics"))
    return sum(r["calls"] for r in metrics["rpcs"]
               if r["service"] == service and r["method"] == method)


def attributes_set_after_writing_go_with_the_commit(w):
    """What chmod, chown and utimes set on a file with unsaved writes (right after close, as
    rsync and tar do, or before it, as cp -p does), or on a new file still empty (as sed -i
    does before writing it), shows at once and reaches the store with the file's commit,
    without a SetAttr call of its own; a chown drops setuid, and a chmod after it sets it
    again, in the order they came."""
    before = kernel_calls(w, "Fs", "SetAttr")
    write(w.p("closed"), b"written, then its attributes set")
    os.chmod(w.p("closed"), 0o4750)
    os.chown(w.p("closed"), 1234, 5678)
    os.utime(w.p("closed"), (1_500_000_000, 1_600_000_000))
    write(w.p("untarred"), b"chown then chmod, as tar x does")
    os.chown(w.p("untarred"), 42, 43)
    os.chmod(w.p("untarred"), 0o4711)
    os.utime(w.p("untarred"), (1_300_000_000, 1_350_000_000))
    with open(w.p("open"), "wb") as f:
        f.write(b"first part")
        f.flush()
        os.fchmod(f.fileno(), 0o600)
        os.utime(f.fileno(), (1_400_000_000, 1_450_000_000))
    fd = os.open(w.p("made"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.fchown(fd, 7, 8)
    os.fchmod(fd, 0o644)
    os.write(fd, b"written after its attributes")
    os.close(fd)
    fd = os.open(w.p("empty"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.fchmod(fd, 0o640)
    os.close(fd)
    # (mode, uid, gid, atime, mtime); None: not set here.
    wanted = {"closed": (0o750, 1234, 5678, 1_500_000_000, 1_600_000_000),
              "untarred": (0o4711, 42, 43, 1_300_000_000, 1_350_000_000),
              "open": (0o600, 0, 0, 1_400_000_000, 1_450_000_000),
              "made": (0o644, 7, 8, None, None),
              "empty": (0o640, 0, 0, None, None)}

    def matches(path, attrs):
        st = os.stat(path)
        got = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, int(st.st_atime),
               int(st.st_mtime))
        return all(want is None or want == have for want, have in zip(attrs, got)), got
    for name, attrs in wanted.items():
        ok, got = matches(w.p(name), attrs)
        check(ok, "%s at once: %r" % (name, got))
    check(read(w.p("made")) == b"written after its attributes", "the content written after")
    check(os.path.getsize(w.p("empty")) == 0, "the empty file")
    fd = os.open(w.mnt, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    check(kernel_calls(w, "Fs", "SetAttr") == before, "no SetAttr call: they went with the commits")
    for name, (mode, uid, gid, atime, mtime) in wanted.items():
        stored = w.kernel.ctl("fs", "stat", "drive", "/" + name)
        check("mode:    %04o" % mode in stored and "uid:     %d\n" % uid in stored and
              "gid:     %d\n" % gid in stored, "%s in the store: %s" % (name, stored))
        for t in (atime, mtime):
            check(t is None or time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) in stored,
                  "%s's times in the store: %s" % (name, stored))
        ok, got = matches(w.p(name), wanted[name])
        check(ok, "%s after the commit: %r" % (name, got))
    # With nothing unsaved, a chmod is a call of its own, as before.
    os.chmod(w.p("closed"), 0o644)
    check(kernel_calls(w, "Fs", "SetAttr") == before + 1, "a chmod of a saved file is one call")
    check("mode:    0644" in w.kernel.ctl("fs", "stat", "drive", "/closed"), "and it is stored")


def attributes_of_files_in_use_answered_here(w):
    """The FUSE kernel module asks for a file's attributes again after each write and read,
    before each chown, and for fstat: for a file this mount is writing, or has just opened,
    lattice-fuse answers itself, without a GetAttr call (as it does for a shell's `>`, which
    closes a copy of the new file's descriptor before writing). A link or an unlink made
    meanwhile is shown, as is a chmod of another client (other_clients_of_this_node_heard)."""
    count = 20
    names = [w.p("echoed%d" % i) for i in range(count)]
    before = kernel_calls(w, "Fs", "GetAttr")
    for name in names:
        subprocess.run(["sh", "-c", 'echo "$1" > "$2"', "sh", os.path.basename(name), name],
                       check=True)
    calls = kernel_calls(w, "Fs", "GetAttr") - before
    # The directory's own attributes may be asked for once a second (the cache time).
    check(calls < count // 2, "%d GetAttr calls for %d files a shell wrote" % (calls, count))
    for name in names:
        check(read(name) == os.path.basename(name).encode() + b"\n", "%s as written" % name)

    before = kernel_calls(w, "Fs", "GetAttr")
    for i in range(count):
        fd = os.open(w.p("owned%d" % i), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.write(fd, b"x" * i)
        os.fchown(fd, 1000 + i, 2000)
        st = os.fstat(fd)
        check(st.st_uid == 1000 + i and st.st_gid == 2000 and st.st_size == i,
              "owner and size of a file being written: %r" % (st,))
        os.close(fd)
    calls = kernel_calls(w, "Fs", "GetAttr") - before
    check(calls < count // 2, "%d GetAttr calls for %d files written and chowned" % (calls, count))

    fd = os.open(w.p("linked"), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    os.write(fd, b"written")
    os.link(w.p("linked"), w.p("linked2"))
    os.link(w.p("linked"), w.p("linked3"))
    os.unlink(w.p("linked2"))
    st = os.fstat(fd)
    check(st.st_nlink == 2 and st.st_size == 7, "links of a file being written: %r" % (st,))
    os.close(fd)
    with open(w.p("linked3"), "rb") as f:
        check(f.read() == b"written", "the content through another link")
        os.unlink(w.p("linked"))
        check(os.fstat(f.fileno()).st_nlink == 1, "a link removed after the file was read")


def renames_of_files_followed_here(w):
    """rsync, sed -i and git write each file under a temporary name and rename it into place.
    In a directory it made, lattice-fuse follows its own renames of files from the kernel's
    answer (the time stamped on both directories): the temporary names and the directory's
    attributes are answered without a Lookup or GetAttr call, while listings, renames of
    directories, exchanges and replaced files stay right."""
    os.mkdir(w.p("dest"))
    os.mkdir(w.p("other"))
    # rsync sets a directory's mode and times as it makes it: its names stay known.
    os.chmod(w.p("dest"), 0o750)
    os.utime(w.p("dest"), (1_500_000_000, 1_500_000_000))
    count = 20
    before = {m: kernel_calls(w, "Fs", m) for m in ("Lookup", "GetAttr")}
    for i in range(count):
        tmp = w.p("dest", ".f%d.tmp" % i)
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.write(fd, b"content %d" % i)
        os.close(fd)
        os.rename(tmp, w.p("dest", "f%d" % i))
    calls = {m: kernel_calls(w, "Fs", m) - before[m] for m in before}
    # The directory's trust is verified once a second (the cache time) with one GetAttr.
    check(calls["Lookup"] < count // 2 and calls["GetAttr"] < count // 2,
          "%r calls for %d files written and renamed into place" % (calls, count))
    check(sorted(os.listdir(w.p("dest"))) == sorted("f%d" % i for i in range(count)),
          "the listing: %r" % sorted(os.listdir(w.p("dest"))))
    check(read(w.p("dest", "f7")) == b"content 7", "a renamed file's content")
    expect_errno(errno.ENOENT, os.stat, w.p("dest", ".f7.tmp"))
    # Replacing a file, moving one to another directory, exchanging, moving a directory.
    write(w.p("dest", "new"), b"new")
    os.rename(w.p("dest", "new"), w.p("dest", "f0"))
    check(read(w.p("dest", "f0")) == b"new", "a file replaced by a rename")
    os.rename(w.p("dest", "f1"), w.p("other", "f1"))
    check(os.path.exists(w.p("other", "f1")) and not os.path.exists(w.p("dest", "f1")),
          "a file moved to another directory")
    os.mkdir(w.p("dest", "sub"))
    os.rename(w.p("dest", "sub"), w.p("other", "sub"))
    check(os.path.isdir(w.p("other", "sub")) and not os.path.exists(w.p("dest", "sub")),
          "a directory moved")
    check(os.stat(w.p("dest")).st_nlink == 2 and os.stat(w.p("other")).st_nlink == 3,
          "the link counts after a directory moved")
    mtime = os.stat(w.p("dest")).st_mtime_ns
    os.rename(w.p("dest", "f2"), w.p("dest", "f2b"))
    check(os.stat(w.p("dest")).st_mtime_ns >= mtime, "a rename moves the directory's mtime on")
    check(not os.path.exists(w.p("dest", "f2")) and read(w.p("dest", "f2b")) == b"content 2",
          "a rename within the directory")
    want = sorted(["f0", "f2b"] + ["f%d" % i for i in range(3, count)])
    check(sorted(os.listdir(w.p("dest"))) == want, "the listing at the end")
    # What the kernel holds agrees.
    listed = w.kernel.ctl("fs", "ls", "drive", "/dest").split()
    check(all(name in listed for name in want) and "f1" not in listed and ".f3.tmp" not in listed,
          "the store's listing: %r" % listed)


def stale_mount(w):
    # fsync: a file only closed may still be in lattice-fuse's write-back queue, which a
    # kill -9 of lattice-fuse loses.
    with open(w.p("kept"), "wb") as f:
        f.write(b"kept")
        f.flush()
        os.fsync(f.fileno())
    w.mount.process.send_signal(signal.SIGKILL)
    w.mount.process.wait()
    expect_errno(errno.ENOTCONN, os.stat, w.mnt)
    w.mount.start()
    check(read(w.p("kept")) == b"kept", "a new lattice-fuse takes the stale mount over")


def exerciser(w, seed=None):
    """Random open/read/write/truncate/rename/link/unlink sequences on the mount and on a
    local folder, which must agree after every step."""
    seed = int(os.environ.get("LATTICE_FUSE_SEED", "0")) or seed or random.randrange(1 << 30)
    print("exerciser seed %d" % seed)
    rng = random.Random(seed)
    model = os.path.join(w.root, "model")
    os.mkdir(model)
    names = ["a", "b", "c", "d", "e"]

    def both(fn):
        results = []
        for base in (model, w.mnt):
            try:
                results.append(("ok", fn(base)))
            except OSError as error:
                results.append(("err", error.errno))
        return results

    history = []
    for step in range(400):
        op = rng.choice(["write", "write", "append", "truncate", "rename", "link", "unlink",
                         "read", "mmap"])
        x, y = rng.choice(names), rng.choice(names)
        off = rng.choice([0, 1, 4095, 4096, 65535, 65536, 200_000, 1_000_000])
        data = os.urandom(rng.choice([1, 100, 4096, 70_000]))
        size = rng.choice([0, 1, 5000, 65536, 300_000])

        def do(base):
            p, q = os.path.join(base, x), os.path.join(base, y)
            if op == "write":
                fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
                try:
                    os.pwrite(fd, data, off)
                finally:
                    os.close(fd)
            elif op == "append":
                with open(p, "ab") as f:
                    f.write(data)
            elif op == "truncate":
                os.truncate(p, size)
            elif op == "rename":
                os.rename(p, q)
            elif op == "link":
                os.link(p, q)
            elif op == "unlink":
                os.unlink(p)
            elif op == "read":
                return read(p)
            elif op == "mmap":
                with open(p, "r+b") as f:
                    length = os.fstat(f.fileno()).st_size
                    if length == 0:
                        return b""
                    view = mmap.mmap(f.fileno(), length)
                    view[length // 2:length // 2 + 1] = b"M"
                    view.flush()
                    view.close()
            return None
        results = both(do)
        history.append("%s %s %s off=%d len=%d size=%d -> %s" % (
            op, x, y, off, len(data), size, str(results[0])[:40]))
        with open(os.path.join(w.root, "exerciser.log"), "a") as log:
            log.write(history[-1] + "\n")
        check(results[0] == results[1], "seed %d step %d: %s %s %s: model %r, mount %r; "
              "last steps:\n  %s" % (seed, step, op, x, y, str(results[0])[:200],
                                     str(results[1])[:200], "\n  ".join(history[-8:])))
        for name in (x, y):  # what any program sees of the names just used
            seen = []
            for base in (model, w.mnt):
                try:
                    st = os.stat(os.path.join(base, name))
                    seen.append((st.st_size, st.st_nlink))
                except OSError as error:
                    seen.append(error.errno)
            check(seen[0] == seen[1], "seed %d step %d: %s's size and links %r in the model, "
                  "%r on the mount; last steps:\n  %s" % (seed, step, name, seen[0], seen[1],
                                                          "\n  ".join(history[-8:])))
        if step % 25 == 24 or step == 399:
            for name in names:
                pm, pf = os.path.join(model, name), os.path.join(w.mnt, name)
                check(os.path.exists(pm) == os.path.exists(pf), "seed %d: %s exists" % (seed, name))
                if os.path.exists(pm):
                    sm, sf = os.stat(pm), os.stat(pf)
                    check(sm.st_size == sf.st_size and sm.st_nlink == sf.st_nlink,
                          "seed %d step %d: %s size %d/%d nlink %d/%d" % (
                              seed, step, name, sm.st_size, sf.st_size, sm.st_nlink,
                              sf.st_nlink))
                    check(read(pm) == read(pf), "seed %d step %d: content of %s" % (
                        seed, step, name))


def last_link_removed_after_an_edit(w):
    """The exerciser's seed 15, reduced: the last name of an inode removed after an edit made
    through another name must not bring back a name removed before the edit."""
    write(w.p("a"), b"1")
    os.link(w.p("a"), w.p("b"))
    os.rename(w.p("b"), w.p("e"))
    os.unlink(w.p("a"))
    write(w.p("a"), b"new inode")
    write(w.p("e"), b"edit", "ab")
    os.unlink(w.p("e"))
    check(sorted(os.listdir(w.mnt)) == ["a"], "names left: %r" % sorted(os.listdir(w.mnt)))
    check(read(w.p("a")) == b"new inode", "the new a")


def link_counts_after_unlinks_answered_here(w):
    """The exerciser's seeds 1056921364 and 509279778, reduced: an unlink answered here and
    still queued for the kernel takes a link from the file's other names at once, also in
    the attributes a truncate or a chmod of a file this mount just wrote answers (the FUSE
    module keeps those for the attribute time); so does a rename onto one of its names."""
    write(w.p("first"), b"proves the kernel takes unlinks")
    os.unlink(w.p("first"))
    for call in ("chmod", "truncate"):
        a, b = w.p(call + "-a"), w.p(call + "-b")
        write(a, b"1")
        os.link(a, b)
        write(a, b"written through a", "ab")
        os.unlink(b)
        if call == "truncate":
            os.truncate(a, 0)
        else:
            os.chmod(a, 0o600)
        check(os.stat(a).st_nlink == 1, "%s: %d links after the other name's unlink"
              % (call, os.stat(a).st_nlink))
    # A file whose other name's unlink is still queued, open, then unlinked by its last
    # name: it stays readable through the descriptor (the unlink sees the queued one first).
    for attempt in range(5):
        a, b = w.p("open-%d-a" % attempt), w.p("open-%d-b" % attempt)
        write(a, b"kept while open %d" % attempt)
        os.link(a, b)
        os.unlink(b)
        fd = os.open(a, os.O_RDONLY)
        try:
            os.unlink(a)
            dirfd = os.open(w.mnt, os.O_RDONLY)
            os.fsync(dirfd)  # the queued unlink reaches the store too
            os.close(dirfd)
            content = os.pread(fd, 100, 0)
            check(content == b"kept while open %d" % attempt,
                  "an open file unlinked by its last name reads %r" % content)
        finally:
            os.close(fd)
    # The tree exerciser's seed 712419763, reduced: a rename onto another name of a file
    # being written takes a link from it; a chmod of the file then answers so.
    a, b, other = w.p("renamed-a"), w.p("renamed-b"), w.p("other")
    write(a, b"1")
    os.link(a, b)
    write(other, b"replaces b")
    fd = os.open(a, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, b"unsaved")
        os.rename(other, b)
        os.chmod(a, 0o600)
        check(os.stat(a).st_nlink == 1, "%d links after a rename replaced the other name"
              % os.stat(a).st_nlink)
    finally:
        os.close(fd)


def trees(w, seed=None):
    seed = int(os.environ.get("LATTICE_FUSE_SEED", "0")) or seed or random.randrange(1 << 30)
    second, other = start_second_mount(w)
    try:
        tree_exerciser(w, other, seed)
    finally:
        second.stop()


def trees_fixed_seed(w):
    """The tree exerciser (fuse_tree_exerciser.py) with one seed, so a failure replays."""
    trees(w, seed=1)


def trees_random_seed(w):
    trees(w)


def differential_fixed_seed(w):
    """The differential exerciser with the seed that found the bug of
    last_link_removed_after_an_edit."""
    exerciser(w, seed=15)


def differential_random_seed(w):
    exerciser(w)


SCENARIOS = {f.__name__: f for f in [
    differential_fixed_seed, differential_random_seed, last_link_removed_after_an_edit,
    files_and_content, rename_and_links, attributes, special_files, xattrs, mmap_and_locks,
    sync_and_statfs, stop_signal_on_any_thread, big_directory, unlink_while_open, kernel_restart,
    stale_mount, closed_then_synced_survive_a_kernel_kill, closed_file_seen_elsewhere,
    many_closed_files_seen_elsewhere, names_made_elsewhere_on_this_node, unlinks_answered_here,
    unlinks_stamp_their_directory_here, files_written_here_read_back_without_the_kernel,
    unlinks_answered_here_remove_only_what_was_unlinked, unlinks_refused_to_a_read_only_token,
    other_clients_of_this_node_heard,
    attributes_set_after_writing_go_with_the_commit, attributes_of_files_in_use_answered_here,
    renames_of_files_followed_here, link_counts_after_unlinks_answered_here, trees_fixed_seed,
    trees_random_seed, creates_answered_here, create_of_a_name_taken_meanwhile_kept,
    renames_of_new_files_answered_here, directories_made_here,
    renames_over_files_answered_here, directories_listed_here_known, opens_answered_here,
    times_shown_at_close_kept, reads_close_without_a_flush,
    files_written_here_reopened_from_the_page_cache, lookups_of_known_files_answered_here,
    renames_through_the_kernel_keep_held_attributes]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fuse", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    try:
        world = World(args)
    except Skip as reason:
        print("SKIP %s: %s" % (args.scenario, reason))
        return 77
    ok = False
    try:
        SCENARIOS[args.scenario](world)
        ok = True
    except (TestFailure, OSError) as failure:
        print("FAIL %s: %s" % (args.scenario, failure), file=sys.stderr)
        traceback.print_exc()
        print("lattice-fuse log:" + tail(world.mount.log_path), file=sys.stderr)
    finally:
        world.close(ok)
    print("%s %s" % ("PASS" if ok else "FAIL", args.scenario))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
