"""A differential exerciser of directory trees: random mkdir, rmdir, rename, link, symlink,
unlink, write, truncate, chmod, extended attribute, stat and listing calls on two lattice-fuse
mounts of one store and on a local folder, which must answer alike after every call. Every so
often the whole trees are compared (names, types, modes, sizes, link counts, contents, link
targets, extended attributes): each mount hears the other's calls only through the kernel's
watch, so its cached attributes, names and listings of what changed elsewhere are checked as
well as its own."""
import os
import random
import stat

from fuse_support import TestFailure, check, wait_until
from libc_calls import RENAME_EXCHANGE, RENAME_NOREPLACE, renameat2

PATHS = ["a", "b", "c", "a/b", "a/c", "b/a", "b/c", "a/b/c", "c/a"]
# The calls, the commoner ones twice.
OPS = ["write", "write", "mkdir", "mkdir", "rmdir", "rename", "rename", "exchange",
       "rename-noreplace", "link", "symlink", "unlink", "truncate", "chmod", "stat", "list",
       "read", "setxattr", "getxattr", "listxattr", "removexattr"]
XATTRS = ["user.a", "user.b"]
# What symbolic links point at, relative to where they are: a name of the tree or none (never
# out of it: a call through the link would reach one place for the model and the mount).
TARGETS = ["a", "b", "c/a", "nowhere"]


def _append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _stat_of(path):
    s = os.lstat(path)
    kind = stat.S_IFMT(s.st_mode)
    size = None if kind == stat.S_IFDIR else s.st_size
    return (kind, stat.S_IMODE(s.st_mode), size, s.st_nlink)


def _tree(root):
    """Every path under `root` with its attributes (and a file's content)."""
    out = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, root)
            entry = _stat_of(path)
            if stat.S_ISLNK(os.lstat(path).st_mode):
                entry = entry + (os.readlink(path),)
            else:
                entry = entry + (sorted((k, os.getxattr(path, k)) for k in os.listxattr(path)),)
            if stat.S_ISREG(os.lstat(path).st_mode):
                entry = entry + (_read(path),)
            out[rel] = entry
    return out


def _describe_difference(model, mount):
    for rel in sorted(set(model) | set(mount)):
        if model.get(rel) != mount.get(rel):
            return "%s: model %r, mount %r" % (rel, str(model.get(rel))[:120],
                                                str(mount.get(rel))[:120])
    return "none"


def _pick(rng, op, model, prefix):
    """The paths of a call under `prefix`: mostly ones that make it succeed (an existing name
    to act on, a free name in an existing directory to make), sometimes any, for the errors."""
    paths = [os.path.join(prefix, p) for p in PATHS]
    existing = sorted(os.path.join(prefix, p) for p in _tree(os.path.join(model, prefix))
                      if prefix or not (p == "z" or p.startswith("z/")))  # the other's
    dirs = {prefix or "."} | {p for p in existing if os.path.isdir(os.path.join(model, p))}
    free = [p for p in paths if p not in existing and (os.path.dirname(p) or ".") in dirs]
    if op in ("write", "mkdir"):
        x = rng.choice(free) if free and rng.random() < 0.8 else rng.choice(paths)
    else:
        x = rng.choice(existing) if existing and rng.random() < 0.8 else rng.choice(paths)
    y = rng.choice(free) if free and rng.random() < 0.7 else rng.choice(paths)
    return x, y


def tree_exerciser(w, second_root, seed, steps=300):
    """Each step, the first mount makes a call in the tree's top and the second one a call
    under z/; each call must answer as on the model, and the names it used must show alike
    on its mount right after it. Every 50 steps both mounts must come to show the whole tree
    (each hears the other's calls through the watch)."""
    print("tree exerciser seed %d" % seed)
    rng = random.Random(seed)
    model = os.path.join(w.root, "tree-model")
    os.mkdir(model)
    for base in (model, w.mnt):
        os.mkdir(os.path.join(base, "z"))
    wait_until(lambda: os.path.isdir(os.path.join(second_root, "z")), "z on the second mount")
    mounts = [("first mount", w.mnt, ""), ("second mount", second_root, "z")]
    history = []
    succeeded = 0
    calls_made = 0

    for step in range(steps):
        for mount_name, mount, prefix in mounts:
            op = rng.choice(OPS)
            x, y = _pick(rng, op, model, prefix)
            data = rng.randbytes(rng.choice([0, 1, 100, 5000]))
            size = rng.choice([0, 1, 4096, 10000])
            mode = rng.choice([0o600, 0o644, 0o755, 0o700])
            target = rng.choice(TARGETS)
            xattr = rng.choice(XATTRS)
            calls = {
                "write": lambda p, q: _append(p, data),
                "mkdir": lambda p, q: os.mkdir(p, 0o755),
                "rmdir": lambda p, q: os.rmdir(p),
                "rename": os.rename,
                "exchange": lambda p, q: renameat2(p, q, RENAME_EXCHANGE),
                "rename-noreplace": lambda p, q: renameat2(p, q, RENAME_NOREPLACE),
                "link": os.link,
                "symlink": lambda p, q: os.symlink(target, q),
                "unlink": lambda p, q: os.unlink(p),
                "truncate": lambda p, q: os.truncate(p, size),
                "chmod": lambda p, q: os.chmod(p, mode),
                "stat": lambda p, q: _stat_of(p),
                "list": lambda p, q: sorted(os.listdir(p)),
                "read": lambda p, q: os.readlink(p) if os.path.islink(p) else _read(p),
                "setxattr": lambda p, q: os.setxattr(p, xattr, data[:200]),
                "getxattr": lambda p, q: os.getxattr(p, xattr),
                "listxattr": lambda p, q: sorted(os.listxattr(p)),
                "removexattr": lambda p, q: os.removexattr(p, xattr),
            }
            results = []
            for base in (model, mount):
                try:
                    results.append(("ok", calls[op](os.path.join(base, x), os.path.join(base, y))))
                except OSError as error:
                    results.append(("err", error.errno))
            calls_made += 1
            succeeded += results[0][0] == "ok"
            history.append("%s: %s %s %s len=%d size=%d mode=%o target=%s xattr=%s -> %s" % (
                mount_name, op, x, y, len(data), size, mode, target, xattr,
                str(results[0])[:60]))
            with open(os.path.join(w.root, "tree-exerciser.log"), "a") as log:
                log.write(history[-1] + "\n")  # kept with the test's folder when it fails
            last_steps = "\n  ".join(history[-12:])
            check(results[0] == results[1], "seed %d step %d: %s: %s %s %s: model %r, mount "
                  "%r; last steps:\n  %s" % (seed, step, mount_name, op, x, y,
                                            str(results[0])[:200], str(results[1])[:200],
                                            last_steps))
            # What any program sees of the names just used, right after the call.
            for rel in {x, y, os.path.dirname(x) or ".", os.path.dirname(y) or "."}:
                seen = []
                for base in (model, mount):
                    try:
                        seen.append(_stat_of(os.path.join(base, rel)))
                    except OSError as error:
                        seen.append(error.errno)
                if rel == ".":  # the mount's root is not the model folder's
                    seen = [s if isinstance(s, int) else s[3] for s in seen]
                check(seen[0] == seen[1], "seed %d step %d: after %s: %s %s %s, %s is %r in "
                      "the model, %r on the mount; last steps:\n  %s" % (
                          seed, step, mount_name, op, x, y, rel, seen[0], seen[1], last_steps))
        if step % 50 == 49 or step == steps - 1:
            want = _tree(model)
            for mount_name, mount, _ in mounts:
                last = {}

                def agrees():
                    last["tree"] = _tree(mount)
                    return last["tree"] == want
                try:
                    wait_until(agrees, "the %s to show the whole tree" % mount_name)
                except TestFailure as failure:
                    raise TestFailure("seed %d step %d: %s: %s" % (
                        seed, step, failure, _describe_difference(want, last.get("tree", {}))))
    print("%d calls, %d succeeded; the tree at the end holds %d names" % (
        calls_made, succeeded, len(_tree(model))))
    check(succeeded > calls_made // 4, "too few calls succeeded to exercise anything")
