#!/usr/bin/python3
"""A random fault suite, in the manner of etcd's robustness tests: N real kernels in one mesh
on loopback, each reached through a TCP proxy the suite can cut, random writes on every node
while random kernels are killed with SIGKILL and restarted and random links are cut and
healed, for a bounded time. Then every fault is healed and the suite checks convergence:
- the store's state hash and set fingerprint are the same on every node;
- every write a node acknowledged is present, with its value, on every node;
- `debug verify` passes on every node.

Usage: fault_suite_test.py --kernel K --ctl C [--seed N] [--nodes N] [--seconds S]
The seed is printed first; a failure is replayed by passing it again.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuse_support import Kernel, Proxy, TestFailure, check, tail, wait_until  # noqa: E402

CONVERGE_DEADLINE = 120


class Cluster:
    def __init__(self, args, root):
        self.args = args
        self.root = root
        self.proxies = []
        self.kernels = []
        for i in range(args.nodes):
            proxy = Proxy(None)
            kernel = Kernel(args, os.path.join(root, "n%d" % i), "n%d" % i,
                            listen="127.0.0.1:0", advertise=proxy.address)
            kernel.start()
            proxy.set_target(kernel.listen)
            self.proxies.append(proxy)
            self.kernels.append(kernel)
        first = self.kernels[0]
        for other in self.kernels[1:]:
            invite = first.ctl("peer", "invite").strip()
            other.ctl("peer", "join", invite, "--name", other.name)
        self.wait_connected()
        created = first.ctl("store", "create", "data", "--type", "kv")
        self.store = created.split()[0]
        wait_until(lambda: all(k.has_store(self.store) for k in self.kernels),
                   "the store to reach every node", CONVERGE_DEADLINE)

    def wait_connected(self):
        want = len(self.kernels) - 1
        wait_until(lambda: all(k.peers_connected() >= want for k in self.kernels),
                   "every node to connect to every other", CONVERGE_DEADLINE)

    def close(self):
        for kernel in self.kernels:
            kernel.stop()
        for proxy in self.proxies:
            proxy.close()

    def logs(self):
        return "\n".join("== %s\n%s" % (k.name, tail(k.log_path)) for k in self.kernels)


def name_of(cluster, proxy):
    return cluster.kernels[cluster.proxies.index(proxy)].name


def run_faults(cluster, rng, seconds, log):
    """Random writes, kills, restarts, cuts and heals until `seconds` pass. Returns the
    writes acknowledged as synced to keys written once: key -> value."""
    acknowledged = {}
    end = time.monotonic() + seconds
    step = 0
    while time.monotonic() < end:
        step += 1
        dice = rng.random()
        kernel = rng.choice(cluster.kernels)
        proxy = rng.choice(cluster.proxies)
        if dice < 0.75:
            if not kernel.running():
                continue
            value = "v%d" % rng.randrange(1 << 30)
            shared = rng.random() < 0.2
            # A few keys every node writes, so concurrent writes must converge too; the
            # rest are written once, so each acknowledged one can be looked for.
            key = "shared-%d" % rng.randrange(8) if shared else "k%05d-%s" % (step, kernel.name)
            args = ["kv", "put", cluster.store, key, value]
            if rng.random() < 0.3:
                args.append("--no-sync")  # acknowledged once applied: may go with a kill
            done = kernel.ctl_run(*args)
            if done.returncode == 0 and "--no-sync" not in args and not shared:
                acknowledged[key] = value
        elif dice < 0.81:
            if kernel.running():
                log("step %d: kill -9 %s" % (step, kernel.name))
                kernel.kill9()
        elif dice < 0.90:
            if not kernel.running():
                log("step %d: restart %s" % (step, kernel.name))
                kernel.start()
                cluster.proxies[cluster.kernels.index(kernel)].set_target(kernel.listen)
        elif dice < 0.95:
            log("step %d: cut the links into %s" % (step, name_of(cluster, proxy)))
            proxy.partition()
        else:
            log("step %d: heal the links into %s" % (step, name_of(cluster, proxy)))
            proxy.heal()
    return acknowledged


def heal_everything(cluster):
    for kernel, proxy in zip(cluster.kernels, cluster.proxies):
        if not kernel.running():
            kernel.start()
            proxy.set_target(kernel.listen)
        proxy.heal()
    cluster.wait_connected()


def converged(cluster):
    for kernel in cluster.kernels:
        kernel.ctl_run("store", "sync", cluster.store, "--wait")
    states = []
    for kernel in cluster.kernels:
        status = json.loads(kernel.ctl("--json", "store", "status", cluster.store))
        states.append((status["state_hash"], status["fingerprint"]))
    return len(set(states)) == 1


def check_acknowledged(cluster, acknowledged):
    for kernel in cluster.kernels:
        scan = json.loads(kernel.ctl("--json", "kv", "scan", cluster.store, "--limit", "1000000"))
        held = {entry["key"]: entry.get("value") for entry in scan.get("entries", [])}
        missing = [key for key, value in acknowledged.items() if held.get(key) != value]
        check(not missing, "%s lacks %d acknowledged writes, e.g. %r" %
              (kernel.name, len(missing), missing[:5]))
        kernel.ctl("debug", "verify", cluster.store)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--ctl", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    print("fault suite: seed %d, %d nodes, %.0f s (replay with --seed %d)" %
          (seed, args.nodes, args.seconds, seed), flush=True)
    rng = random.Random(seed)
    root = tempfile.mkdtemp(prefix="lattice-fault-suite-")
    cluster = None
    events = []
    ok = False
    try:
        cluster = Cluster(args, root)
        acknowledged = run_faults(cluster, rng, args.seconds, events.append)
        kills = sum(1 for e in events if "kill" in e)
        cuts = sum(1 for e in events if "cut" in e)
        print("%d acknowledged writes, %d kills, %d cuts" % (len(acknowledged), kills, cuts),
              flush=True)
        check(len(acknowledged) > 0 and kills > 0 and cuts > 0,
              "the run made no writes, kills or cuts: raise --seconds")
        heal_everything(cluster)
        wait_until(lambda: converged(cluster), "every node to reach the same state",
                   CONVERGE_DEADLINE)
        check_acknowledged(cluster, acknowledged)
        ok = True
    except TestFailure as failure:
        print("FAIL (seed %d): %s" % (seed, failure), file=sys.stderr)
        traceback.print_exc()
    except Exception:
        print("ERROR (seed %d)" % seed, file=sys.stderr)
        traceback.print_exc()
    finally:
        if not ok:
            print("\n".join(events[-60:]), file=sys.stderr)
            if cluster is not None:
                print(cluster.logs(), file=sys.stderr)
        if cluster is not None:
            cluster.close()
        if ok:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
