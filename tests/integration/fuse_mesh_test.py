#!/usr/bin/python3
"""The shared drive across two machines: two real kernels in a mesh on loopback (each link
through a proxy the test can cut), an `fs` store replicated to both, a lattice-fuse mount on
each. A tree copied on one appears on the other byte for byte; edits made while cut apart all
survive the heal, the same on both nodes.

Usage: fuse_mesh_test.py --kernel K --ctl C --fuse F SCENARIO (as root, with /dev/fuse).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuse_support import (MESH_DEADLINE, Mesh, TestFailure, check, run, run_main,  # noqa: E402
                          wait_until)
from fuse_tools_test import diff_manifests, make_tree, manifest  # noqa: E402

CONFLICT = re.compile(r"^(?P<name>.+)\.sync-conflict-\d{8}-\d{6}-(?P<node>.+)$")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# A mount that keeps names (and their absence) cached for ten minutes shows a change from the
# other node within INVALIDATION_DEADLINE only when the watch makes it drop what it holds.
LONG_CACHE_SECONDS = 600
INVALIDATION_DEADLINE = 60.0


def remount_with_long_cache(mesh, kernel, mount, name):
    """Stops `mount` and mounts the store of `kernel` again at `name`, with the long cache."""
    mount.stop()
    cached = mesh.add_mount(kernel, mesh.store, os.path.join(mesh.root, name),
                            extra=["--cache-seconds", str(LONG_CACHE_SECONDS)])
    cached.start()
    return cached


def same_everywhere(mesh, what, deadline=MESH_DEADLINE):
    """Waits until both mounts show the same tree; returns its manifest."""
    last = []

    def agree():
        a, b = manifest(mesh.a_mnt), manifest(mesh.b_mnt)
        last[:] = diff_manifests(a, b)
        return not last
    try:
        wait_until(agree, what, deadline)
    except AssertionError:
        raise TestFailure("%s; still differing:\n%s" % (what, "\n".join(last[:20])))
    return manifest(mesh.a_mnt)


def tree_replicates(mesh):
    """A tree copied on alpha appears on beta with the same contents, modes, times, symlinks
    and hard links."""
    src = mesh.scratch("src")
    make_tree(src, files=200, seed=21)
    run(["cp", "-a", src, os.path.join(mesh.a_mnt, "project")])
    wanted = manifest(src)
    last = []

    def arrived():
        last[:] = diff_manifests(wanted, manifest(os.path.join(mesh.b_mnt, "project")))
        return not last
    try:
        wait_until(arrived, "the tree to reach beta", MESH_DEADLINE)
    except AssertionError:
        raise TestFailure("on beta:\n" + "\n".join(last[:20]))


def conflicting_edits(mesh):
    """One file edited on both nodes while they are cut apart: after the heal both versions
    are there on both nodes, the winner under the name and the other as a conflict copy named
    NAME.sync-conflict-<date>-<time>-<node>."""
    path_a = os.path.join(mesh.a_mnt, "plan.txt")
    write(path_a, b"the original plan\n")
    wait_until(lambda: os.path.exists(os.path.join(mesh.b_mnt, "plan.txt")),
               "plan.txt to reach beta", MESH_DEADLINE)
    mesh.partition()
    write(path_a, b"alpha's plan\n")
    write(os.path.join(mesh.b_mnt, "plan.txt"), b"beta's plan\n")
    mesh.heal()

    def both_versions(root):
        names = os.listdir(root)
        copies = [n for n in names if CONFLICT.match(n)]
        if "plan.txt" not in names or len(copies) != 1:
            return None
        return {read(os.path.join(root, "plan.txt")), read(os.path.join(root, copies[0]))}, copies[0]
    wait_until(lambda: both_versions(mesh.a_mnt) and both_versions(mesh.b_mnt)
               and both_versions(mesh.a_mnt) == both_versions(mesh.b_mnt),
               "both nodes to show both versions alike", MESH_DEADLINE)
    contents, copy = both_versions(mesh.a_mnt)
    check(contents == {b"alpha's plan\n", b"beta's plan\n"}, "versions: %r" % contents)
    match = CONFLICT.match(copy)
    check(match.group("name") == "plan.txt" and match.group("node") in ("alpha", "beta"),
          "conflict copy named %r" % copy)
    same_everywhere(mesh, "the trees to agree")


def crossed_renames(mesh):
    """Cut apart, alpha moves x into y while beta moves y into x: after the heal both nodes
    hold the same tree, with no cycle and nothing lost."""
    for d in ("x", "y"):
        os.makedirs(os.path.join(mesh.a_mnt, d))
        write(os.path.join(mesh.a_mnt, d, "inside-" + d), d.encode())
    wait_until(lambda: all(os.path.exists(os.path.join(mesh.b_mnt, d, "inside-" + d))
                           for d in ("x", "y")), "x and y to reach beta", MESH_DEADLINE)
    mesh.partition()
    os.rename(os.path.join(mesh.a_mnt, "x"), os.path.join(mesh.a_mnt, "y", "x"))
    os.rename(os.path.join(mesh.b_mnt, "y"), os.path.join(mesh.b_mnt, "x", "y"))
    mesh.heal()
    tree, _ = same_everywhere(mesh, "the trees to agree")
    files = sorted(p for p, e in tree.items() if os.path.basename(p).startswith("inside-"))
    check(len(files) == 2, "files after the crossed renames: %r" % files)
    # Exactly one move won: one directory holds the other, reachable from the root.
    check(set(files) in ({"x/inside-x", "x/y/inside-y"}, {"y/inside-y", "y/x/inside-x"}),
          "tree after the crossed renames: %r" % sorted(tree))


def delete_versus_edit(mesh):
    """Cut apart, alpha deletes a file that beta edits: after the heal the edit is there on
    both nodes."""
    write(os.path.join(mesh.a_mnt, "draft.txt"), b"first draft\n")
    wait_until(lambda: os.path.exists(os.path.join(mesh.b_mnt, "draft.txt")),
               "draft.txt to reach beta", MESH_DEADLINE)
    mesh.partition()
    os.unlink(os.path.join(mesh.a_mnt, "draft.txt"))
    write(os.path.join(mesh.b_mnt, "draft.txt"), b"second draft, written on beta\n")
    mesh.heal()
    for root in (mesh.a_mnt, mesh.b_mnt):
        path = os.path.join(root, "draft.txt")
        wait_until(lambda: os.path.exists(path) and read(path) == b"second draft, written on beta\n",
                   "the edit to survive on %s" % root, MESH_DEADLINE)
    same_everywhere(mesh, "the trees to agree")


def rmdir_versus_create(mesh):
    """Cut apart, alpha removes an empty directory while beta creates a file in it: after the
    heal the file is there on both nodes, and alpha's mount shows the directory again as soon
    as the letter arrives, though it keeps names (and their absence) cached for ten minutes:
    the watch names the directory where it is shown again."""
    a_mount = remount_with_long_cache(mesh, mesh.a, mesh.a_mount, "a-mnt-cached")
    mesh.a_mount, mesh.a_mnt = a_mount, a_mount.path
    a = a_mount.path
    os.makedirs(os.path.join(a, "inbox"))
    wait_until(lambda: os.path.isdir(os.path.join(mesh.b_mnt, "inbox")),
               "inbox to reach beta", MESH_DEADLINE)
    mesh.partition()
    os.rmdir(os.path.join(a, "inbox"))
    check(not os.path.exists(os.path.join(a, "inbox")), "inbox still on alpha")  # now cached
    write(os.path.join(mesh.b_mnt, "inbox", "letter.txt"), b"dear alpha\n")
    mesh.heal()
    for root in (a, mesh.b_mnt):
        path = os.path.join(root, "inbox", "letter.txt")
        wait_until(lambda: os.path.exists(path) and read(path) == b"dear alpha\n",
                   "the letter to survive on %s" % root, INVALIDATION_DEADLINE)
    same_everywhere(mesh, "the trees to agree")


def page_cache_sees_remote_change(mesh):
    """A reader on beta whose page cache holds a file's old content reads the new content
    once alpha's change arrives (the cache is invalidated, not served stale)."""
    path_a = os.path.join(mesh.a_mnt, "status.txt")
    path_b = os.path.join(mesh.b_mnt, "status.txt")
    old = b"old status " * 10_000
    write(path_a, old)
    wait_until(lambda: os.path.exists(path_b) and read(path_b) == old,
               "the old content on beta", MESH_DEADLINE)
    for _ in range(3):
        check(read(path_b) == old, "beta's reads of the old content differ")
    new = b"new status " * 10_000
    write(path_a, new)
    wait_until(lambda: read(path_b) == new, "beta to read alpha's new content", MESH_DEADLINE)
    # An open descriptor reading again from the start sees it too.
    with open(path_b, "rb") as f:
        check(f.read() == new, "a fresh open on beta reads stale content")


def remote_rename_drops_the_old_name(mesh):
    """Renames, a move to another directory and an unlink made on alpha show on beta's mount
    as soon as they arrive: the old names gone, the new ones there, though beta's mount keeps
    names cached for ten minutes. The watch names the place a moved entry left, and beta
    drops it from its cache; waiting out the cache is not how it goes."""
    b_mount = remount_with_long_cache(mesh, mesh.b, mesh.b_mount, "b-mnt-cached")
    a, b = mesh.a_mnt, b_mount.path
    os.makedirs(os.path.join(a, "from"))
    os.makedirs(os.path.join(a, "to"))
    os.makedirs(os.path.join(a, "folder", "inner"))
    for name in ("old.txt", "gone.txt"):
        write(os.path.join(a, name), name.encode())
    write(os.path.join(a, "from", "moving.txt"), b"moving")
    seen = ["old.txt", "gone.txt", "from/moving.txt", "folder/inner", "folder", "to"]
    wait_until(lambda: all(os.path.exists(os.path.join(b, p)) for p in seen),
               "the files to reach beta", MESH_DEADLINE)
    # Beta looks each name up, so its kernel caches the entries.
    for p in seen:
        os.stat(os.path.join(b, p))

    os.rename(os.path.join(a, "old.txt"), os.path.join(a, "new.txt"))
    os.rename(os.path.join(a, "from", "moving.txt"), os.path.join(a, "to", "moved.txt"))
    os.rename(os.path.join(a, "folder"), os.path.join(a, "renamed-folder"))
    os.unlink(os.path.join(a, "gone.txt"))

    def shown():
        return {
            "old.txt": os.path.exists(os.path.join(b, "old.txt")),
            "new.txt": os.path.exists(os.path.join(b, "new.txt")),
            "from/moving.txt": os.path.exists(os.path.join(b, "from", "moving.txt")),
            "to/moved.txt": os.path.exists(os.path.join(b, "to", "moved.txt")),
            "folder": os.path.exists(os.path.join(b, "folder")),
            "renamed-folder/inner": os.path.exists(os.path.join(b, "renamed-folder", "inner")),
            "gone.txt": os.path.exists(os.path.join(b, "gone.txt")),
        }
    wanted = {"old.txt": False, "new.txt": True, "from/moving.txt": False, "to/moved.txt": True,
              "folder": False, "renamed-folder/inner": True, "gone.txt": False}
    last = {}

    def arrived():
        last.clear()
        last.update(shown())
        return last == wanted
    try:
        wait_until(arrived, "beta's mount to show alpha's renames", INVALIDATION_DEADLINE)
    except AssertionError:
        raise TestFailure("beta's mount after %.0f s (cache %d s): %r"
                          % (INVALIDATION_DEADLINE, LONG_CACHE_SECONDS, last))
    check(read(os.path.join(b, "new.txt")) == b"old.txt", "new.txt on beta reads wrong")
    check(sorted(os.listdir(b)) == ["from", "new.txt", "renamed-folder", "to"],
          "beta lists %r" % sorted(os.listdir(b)))


SCENARIOS = {f.__name__: f for f in [
    tree_replicates, conflicting_edits, crossed_renames, delete_versus_edit,
    rmdir_versus_create, page_cache_sees_remote_change, remote_rename_drops_the_old_name]}


if __name__ == "__main__":
    sys.exit(run_main(__doc__, SCENARIOS, Mesh))
