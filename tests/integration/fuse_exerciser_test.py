#!/usr/bin/python3
"""A file-system exerciser: random sequences of open, read, write, append, truncate, mmap,
rename, link, unlink, mkdir, rmdir and fsync on a real lattice-fuse mount, each checked
against an in-memory model of what POSIX says the result must be (contents, sizes, link
counts, directory listings, errnos), with descriptors kept open across renames and unlinks.

Usage: fuse_exerciser_test.py --kernel K --ctl C --fuse F fixed_seed|random_seed
       fuse_exerciser_test.py --dir DIR [--seed N] [--ops N]   (any directory, e.g. tmpfs,
       to check the exerciser itself against a file system everyone trusts)
"""

import argparse
import errno
import mmap
import os
import random
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuse_support import TestFailure, World, run_main  # noqa: E402

FIXED_SEED = 20261203
OPS = 3000


class Model:
    """What the tree must hold: directories, and names bound to inodes whose content is
    shared by all their names and descriptors."""

    def __init__(self):
        self.dirs = {""}
        self.names = {}      # relative path -> inode number (model's)
        self.data = {}       # inode -> bytearray
        self.next_inode = 1

    def nlink(self, inode):
        return sum(1 for i in self.names.values() if i == inode)

    def children(self, d):
        prefix = d + "/" if d else ""
        out = set()
        for p in list(self.dirs) + list(self.names):
            if p and p.startswith(prefix) and "/" not in p[len(prefix):]:
                out.add(p[len(prefix):])
        return out


class Exerciser:
    def __init__(self, root, seed, ops):
        self.root = root
        self.rng = random.Random(seed)
        self.seed = seed
        self.ops = ops
        self.model = Model()
        self.fds = []        # (fd, model inode, append)
        self.log = []

    def path(self, rel):
        return os.path.join(self.root, rel) if rel else self.root

    def fail(self, message):
        raise TestFailure("seed %d, after %d ops (last: %s): %s" % (
            self.seed, len(self.log), "; ".join(self.log[-8:]), message))

    def expect_errno(self, fn, wanted, what):
        try:
            fn()
        except OSError as error:
            if error.errno not in wanted:
                self.fail("%s failed with %s, wanted %s" % (
                    what, errno.errorcode.get(error.errno), [errno.errorcode[w] for w in wanted]))
            return
        self.fail("%s succeeded, wanted %s" % (what, [errno.errorcode[w] for w in wanted]))

    # ---- choices ----

    def some_dir(self):
        return self.rng.choice(sorted(self.model.dirs))

    def some_file(self):
        names = sorted(self.model.names)
        return self.rng.choice(names) if names else None

    def new_name(self, d):
        base = self.rng.choice(["a", "b", "c", "notes", "x.txt", "data.bin", "é-ü", "sub"])
        name = "%s%d" % (base, self.rng.randrange(40))
        return (d + "/" + name) if d else name

    def some_data(self):
        size = self.rng.choice([0, 1, 7, 100, 4096, 5000, 65_536, 70_000, 300_000])
        return self.rng.randbytes(size)

    # ---- operations: each does it on the mount and in the model ----

    def op_create(self):
        rel = self.new_name(self.some_dir())
        exists = rel in self.model.names or rel in self.model.dirs
        flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
        if exists:
            self.expect_errno(lambda: os.open(self.path(rel), flags, 0o644), {errno.EEXIST},
                              "O_EXCL create of existing " + rel)
            return
        fd = os.open(self.path(rel), flags, 0o644)
        inode = self.model.next_inode
        self.model.next_inode += 1
        self.model.names[rel] = inode
        self.model.data[inode] = bytearray()
        data = self.some_data()
        os.write(fd, data)
        self.model.data[inode] += data
        self.keep_or_close(fd, inode, False)

    def keep_or_close(self, fd, inode, append):
        if len(self.fds) < 12 and self.rng.random() < 0.5:
            self.fds.append((fd, inode, append))
        else:
            os.close(fd)

    def op_open(self):
        rel = self.some_file()
        if rel is None:
            return
        inode = self.model.names[rel]
        mode = self.rng.choice(["r", "w", "trunc", "append"])
        flags = {"r": os.O_RDWR, "w": os.O_RDWR, "trunc": os.O_RDWR | os.O_TRUNC,
                 "append": os.O_WRONLY | os.O_APPEND}[mode]
        fd = os.open(self.path(rel), flags)
        if mode == "trunc":
            self.model.data[inode] = bytearray()
        self.keep_or_close(fd, inode, mode == "append")

    def an_fd(self):
        return self.rng.choice(self.fds) if self.fds else None

    def op_pwrite(self):
        entry = self.an_fd()
        if entry is None:
            return
        fd, inode, append = entry
        data = self.rng.randbytes(self.rng.choice([1, 10, 4096, 20_000, 100_000]))
        content = self.model.data[inode]
        if append:
            os.write(fd, data)
            content += data
            return
        offset = self.rng.randrange(len(content) + 70_000)
        os.pwrite(fd, data, offset)
        if offset > len(content):
            content += bytes(offset - len(content))
        content[offset:offset + len(data)] = data

    def op_pread(self):
        entry = self.an_fd()
        if entry is None or entry[2]:
            return
        fd, inode, _ = entry
        content = self.model.data[inode]
        offset = self.rng.randrange(len(content) + 10)
        length = self.rng.choice([1, 100, 4096, 100_000, 1_000_000])
        got = os.pread(fd, length, offset)
        if got != bytes(content[offset:offset + length]):
            self.fail("pread(%d, %d) of inode %d: %d bytes differ from the model's %d" % (
                offset, length, inode, len(got), len(content[offset:offset + length])))

    def op_truncate(self):
        rel = self.some_file()
        if rel is None:
            return
        inode = self.model.names[rel]
        content = self.model.data[inode]
        size = self.rng.choice([0, len(content) // 2, len(content) + 1, len(content) + 200_000])
        entry = self.an_fd()
        if entry is not None and not entry[2] and self.rng.random() < 0.5:
            fd, inode, _ = entry
            content = self.model.data[inode]
            os.ftruncate(fd, size)
        else:
            os.truncate(self.path(rel), size)
        if size < len(content):
            del content[size:]
        else:
            content += bytes(size - len(content))

    def op_mmap(self):
        entry = self.an_fd()
        if entry is None or entry[2]:
            return
        fd, inode, _ = entry
        content = self.model.data[inode]
        if not content:
            return
        with mmap.mmap(fd, len(content)) as m:
            if m[:] != bytes(content):
                self.fail("mmap of inode %d differs from the model" % inode)
            offset = self.rng.randrange(len(content))
            data = self.rng.randbytes(min(len(content) - offset, self.rng.choice([1, 100, 9000])))
            m[offset:offset + len(data)] = data
            m.flush()
        content[offset:offset + len(data)] = data

    def op_rename(self):
        src = self.some_file() if self.rng.random() < 0.8 else self.some_dir()
        if not src:
            return
        dst = self.new_name(self.some_dir()) if self.rng.random() < 0.6 else self.some_file()
        if dst is None or dst == src:
            return
        m = self.model
        if src in m.dirs:
            if dst == src or dst.startswith(src + "/"):
                self.expect_errno(lambda: os.rename(self.path(src), self.path(dst)),
                                  {errno.EINVAL}, "rename of %s into itself" % src)
                return
            if dst in m.names:
                self.expect_errno(lambda: os.rename(self.path(src), self.path(dst)),
                                  {errno.ENOTDIR}, "rename of dir over file")
                return
            if dst in m.dirs and m.children(dst):
                self.expect_errno(lambda: os.rename(self.path(src), self.path(dst)),
                                  {errno.ENOTEMPTY, errno.EEXIST}, "rename over non-empty dir")
                return
            os.rename(self.path(src), self.path(dst))
            m.dirs.discard(dst)
            moved_dirs = {d for d in m.dirs if d == src or d.startswith(src + "/")}
            m.dirs -= moved_dirs
            m.dirs |= {dst + d[len(src):] for d in moved_dirs}
            moved = {p: i for p, i in m.names.items() if p.startswith(src + "/")}
            for p in moved:
                del m.names[p]
            for p, i in moved.items():
                m.names[dst + p[len(src):]] = i
            return
        if dst in m.dirs:
            # Onto a directory holding the file, Linux answers as for any target that is an
            # ancestor of the source (ENOTEMPTY, before it looks at the types; tmpfs does
            # too), when its dentry cache still links the two: a FUSE mount whose cached
            # names lapsed may have let go of that link, and then the types answer.
            wanted = {errno.EISDIR}
            if src.startswith(dst + "/"):
                wanted.add(errno.ENOTEMPTY)
            self.expect_errno(lambda: os.rename(self.path(src), self.path(dst)),
                              wanted, "rename of file over dir")
            return
        os.rename(self.path(src), self.path(dst))
        if m.names.get(dst) == m.names[src]:
            return  # both names of one inode: POSIX says nothing happens
        m.names[dst] = m.names.pop(src)

    def op_link(self):
        src = self.some_file()
        if src is None:
            return
        dst = self.new_name(self.some_dir())
        if dst in self.model.names or dst in self.model.dirs:
            self.expect_errno(lambda: os.link(self.path(src), self.path(dst)), {errno.EEXIST},
                              "link over existing " + dst)
            return
        os.link(self.path(src), self.path(dst))
        self.model.names[dst] = self.model.names[src]

    def op_unlink(self):
        rel = self.some_file()
        if rel is None:
            return
        os.unlink(self.path(rel))
        del self.model.names[rel]

    def op_mkdir(self):
        rel = self.new_name(self.some_dir())
        if rel in self.model.names or rel in self.model.dirs:
            self.expect_errno(lambda: os.mkdir(self.path(rel)), {errno.EEXIST}, "mkdir existing")
            return
        os.mkdir(self.path(rel))
        self.model.dirs.add(rel)

    def op_rmdir(self):
        rel = self.some_dir()
        if not rel:
            return
        if self.model.children(rel):
            self.expect_errno(lambda: os.rmdir(self.path(rel)), {errno.ENOTEMPTY, errno.EEXIST},
                              "rmdir of non-empty " + rel)
            return
        os.rmdir(self.path(rel))
        self.model.dirs.discard(rel)

    def op_fsync(self):
        entry = self.an_fd()
        if entry is not None:
            os.fsync(entry[0])

    def op_close(self):
        if self.fds:
            fd, _, _ = self.fds.pop(self.rng.randrange(len(self.fds)))
            os.close(fd)

    # ---- checks ----

    def check_tree(self):
        m = self.model
        for d in m.dirs:
            listed = set(os.listdir(self.path(d)))
            if listed != m.children(d):
                self.fail("listing of /%s: extra %r, missing %r" % (
                    d, sorted(listed - m.children(d)), sorted(m.children(d) - listed)))
        inode_of = {}
        for rel, inode in m.names.items():
            st = os.lstat(self.path(rel))
            if not stat.S_ISREG(st.st_mode):
                self.fail("%s is not a regular file" % rel)
            content = m.data[inode]
            if st.st_size != len(content):
                self.fail("%s: size %d, model %d" % (rel, st.st_size, len(content)))
            if st.st_nlink != m.nlink(inode):
                self.fail("%s: nlink %d, model %d" % (rel, st.st_nlink, m.nlink(inode)))
            if inode_of.setdefault(inode, st.st_ino) != st.st_ino:
                self.fail("%s: hard links of one inode show different inode numbers" % rel)
            with open(self.path(rel), "rb") as f:
                if f.read() != bytes(content):
                    self.fail("%s: content differs from the model" % rel)

    def run(self):
        ops = [(self.op_create, 10), (self.op_open, 6), (self.op_pwrite, 14), (self.op_pread, 10),
               (self.op_truncate, 5), (self.op_mmap, 4), (self.op_rename, 8), (self.op_link, 4),
               (self.op_unlink, 5), (self.op_mkdir, 4), (self.op_rmdir, 3), (self.op_fsync, 3),
               (self.op_close, 8)]
        functions = [f for f, _ in ops]
        weights = [w for _, w in ops]
        try:
            for i in range(self.ops):
                op = self.rng.choices(functions, weights)[0]
                self.log.append(op.__name__[3:])
                try:
                    op()
                except OSError as error:
                    self.fail("%s raised %s" % (op.__name__[3:], error))
                if i % 250 == 249:
                    self.check_tree()
            self.check_tree()
        finally:
            for fd, _, _ in self.fds:
                os.close(fd)
            self.fds = []


def exercise(world, seed):
    print("exerciser seed %d" % seed, flush=True)
    started = time.monotonic()
    exerciser = Exerciser(world.mnt, seed, OPS)
    exerciser.run()
    print("%d ops in %.1fs" % (OPS, time.monotonic() - started))
    # What was written is what the kernel holds: a new lattice-fuse sees the same tree.
    world.mount.stop()
    world.mount.start()
    exerciser.check_tree()


def fixed_seed(world):
    exercise(world, FIXED_SEED)


def random_seed(world):
    exercise(world, int.from_bytes(os.urandom(4), "little"))


SCENARIOS = {"fixed_seed": fixed_seed, "random_seed": random_seed}


def main():
    if "--dir" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--dir", required=True)
        parser.add_argument("--seed", type=int, default=FIXED_SEED)
        parser.add_argument("--ops", type=int, default=OPS)
        args = parser.parse_args()
        Exerciser(args.dir, args.seed, args.ops).run()
        print("ok: %d ops, seed %d" % (args.ops, args.seed))
        return 0
    return run_main(__doc__, SCENARIOS, World)


if __name__ == "__main__":
    sys.exit(main())
