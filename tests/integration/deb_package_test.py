#!/usr/bin/env python3
"""Builds the Debian package with CPack and checks what is in it (tests/package.cmake).

Usage: deb_package_test.py CPACK CPACK_CONFIG OUT_DIR SOURCE_DIR VERSION

Runs `CPACK -G DEB --config CPACK_CONFIG -B OUT_DIR` (what `--target package` runs once the
build is done), then reads the .deb with dpkg-deb:
- control: name, version, architecture; Depends names the runtime libraries dpkg-shlibdeps
  found (glibc, libsystemd, libsodium, LevelDB, gRPC, protobuf, libfuse3), systemd and fuse3,
  and no -dev package;
- files: every binary in /usr/bin, executable; the three units, the sysusers and tmpfiles
  snippets, every service descriptor of deploy/services, the management page, the example
  configuration; nothing outside /usr;
- the units run the packaged binaries (/usr/bin, not /usr/local/bin), the snippets are the
  ones in deploy/systemd, and the maintainer scripts are executable shell scripts that parse.
Exits 77 (skipped) without dpkg-deb.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import check, failures, verdict  # noqa: E402

SKIP = 77
BINARIES = ["lattice-kernel", "lattice-ctl", "lattice-irc", "lattice-web", "lattice-fuse"]
UNITS = ["lattice-kernel.service", "lattice-irc@.service", "lattice-web.service"]
PAGE = ["index.html", "assets/app.js", "assets/app.css", "assets/favicon.svg"]
# Debian package names (without their soname digits) of what the binaries link.
RUNTIME_LIBRARIES = ["libc6", "libstdc++6", "libsystemd0", "libsodium", "libleveldb",
                     "libgrpc++", "libprotobuf", "libfuse3", "libre2"]
SCRIPTS = ["postinst", "prerm", "postrm"]


def output(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def build(cpack, config, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    proc = subprocess.run([cpack, "-G", "DEB", "--config", config, "-B", out_dir],
                          capture_output=True, text=True, check=False)
    print(proc.stdout[-2000:] + proc.stderr[-2000:])
    debs = glob.glob(os.path.join(out_dir, "lattice_*.deb"))
    check(proc.returncode == 0 and len(debs) == 1, f"cpack makes one lattice_*.deb in {out_dir}")
    return debs[0] if len(debs) == 1 else None


def package_names(depends):
    """The first alternative of each dependency, without its version."""
    return [re.split(r"[\s(|]", d.strip(), maxsplit=1)[0] for d in depends.split(",") if d.strip()]


def check_control(deb, version):
    fields = {f: output(["dpkg-deb", "-f", deb, f]).strip()
              for f in ("Package", "Version", "Architecture", "Depends", "Maintainer")}
    print("Depends: " + fields["Depends"])
    check(fields["Package"] == "lattice", f"Package: lattice ({fields['Package']})")
    check(fields["Version"] == version, f"Version: {version} ({fields['Version']})")
    arch = output(["dpkg", "--print-architecture"]).strip()
    check(fields["Architecture"] == arch, f"Architecture: {arch} ({fields['Architecture']})")
    check(bool(fields["Maintainer"]), "Maintainer is set")
    names = package_names(fields["Depends"])
    for library in RUNTIME_LIBRARIES:
        check(any(n.startswith(library) for n in names), f"Depends names {library}*")
    for package in ("systemd", "fuse3"):
        check(package in names, f"Depends names {package}")
    check(not [n for n in names if n.endswith("-dev")], "Depends names no -dev package")


def check_files(deb, source_dir, work):
    listing = output(["dpkg-deb", "-c", deb])
    paths = {}
    for line in listing.splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        paths[path.lstrip(".").rstrip("/") or "/"] = fields[0]
    expected = [f"/usr/bin/{b}" for b in BINARIES]
    expected += [f"/usr/lib/systemd/system/{u}" for u in UNITS]
    expected += ["/usr/lib/sysusers.d/lattice.conf", "/usr/lib/tmpfiles.d/lattice.conf",
                 "/usr/share/doc/lattice/kernel.toml.example"]
    descriptors = sorted(os.listdir(os.path.join(source_dir, "deploy", "services")))
    expected += [f"/usr/share/lattice/services/{d}" for d in descriptors if d.endswith(".toml")]
    expected += [f"/usr/share/lattice/web/{p}" for p in PAGE]
    for path in expected:
        check(path in paths, f"package holds {path}")
    for binary in BINARIES:
        mode = paths.get(f"/usr/bin/{binary}", "")
        check(mode.startswith("-rwxr-xr-x"), f"/usr/bin/{binary} is executable ({mode})")
    outside = [p for p in paths if p != "/" and not (p + "/").startswith("/usr/")]
    check(not outside, "nothing outside /usr" + "".join("\n      " + p for p in outside))
    check(not [p for p in paths if p.startswith("/usr/local")], "nothing in /usr/local")

    root = os.path.join(work, "root")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    for unit in UNITS:
        with open(os.path.join(root, "usr/lib/systemd/system", unit), encoding="utf-8") as f:
            text = f.read()
        execs = re.findall(r"^ExecStart=(\S+)", text, flags=re.M)
        check(len(execs) == 1 and execs[0].startswith("/usr/bin/")
              and os.path.exists(root + execs[0]),
              f"{unit} runs a packaged binary ({execs})")
        check("/usr/local/bin/" not in re.sub(r"^#.*$", "", text, flags=re.M),
              f"{unit} names /usr/local/bin nowhere but in comments")
    for snippet, installed in (("lattice.sysusers", "usr/lib/sysusers.d/lattice.conf"),
                               ("lattice.tmpfiles", "usr/lib/tmpfiles.d/lattice.conf")):
        with open(os.path.join(source_dir, "deploy/systemd", snippet), "rb") as a, \
                open(os.path.join(root, installed), "rb") as b:
            check(a.read() == b.read(), f"/{installed} is deploy/systemd/{snippet}")


def check_scripts(deb, work):
    control = os.path.join(work, "control")
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    for script in SCRIPTS:
        path = os.path.join(control, script)
        if not check(os.path.exists(path), f"control holds {script}"):
            continue
        check(os.access(path, os.X_OK), f"{script} is executable")
        parses = subprocess.run(["sh", "-n", path], check=False).returncode == 0
        check(parses, f"{script} parses as a shell script")
    with open(os.path.join(control, "postinst"), encoding="utf-8") as f:
        postinst = f.read()
    for command in ("systemd-sysusers /usr/lib/sysusers.d/lattice.conf",
                    "systemd-tmpfiles --create /usr/lib/tmpfiles.d/lattice.conf",
                    "systemctl daemon-reload"):
        check(command in postinst, f"postinst runs `{command}`")


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    cpack, config, out_dir, source_dir, version = sys.argv[1:]
    for tool in ("dpkg-deb", "dpkg-shlibdeps"):
        if shutil.which(tool) is None:
            print(f"skip: {tool} not found (Debian packages cmake, dpkg-dev)")
            return SKIP
    deb = build(cpack, config, out_dir)
    if deb is not None:
        print(f"package: {deb} ({os.path.getsize(deb) // 1024} KiB)")
        with tempfile.TemporaryDirectory(prefix="lattice-deb-") as work:
            check_control(deb, version)
            check_files(deb, source_dir, work)
            check_scripts(deb, work)
    return verdict()


if __name__ == "__main__":
    sys.exit(main())
