#!/usr/bin/python3
"""End-to-end tests of lattice-web across a mesh: two real lattice-kernels on loopback joined
with `lattice-ctl peer invite` / `peer join`, a kv store made on the first and replicated, and
lattice-web in front of the second. An event-stream client on B sees a write made on A, and
a key written on both sides while they were apart shows both heads.

Usage: web_mesh_test.py --kernel K --ctl C --web W SCENARIO
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_support import (MeshKernel, SseClient, Web, check, expect, run_main,  # noqa: E402
                         wait_until)

MESH_DEADLINE = 60.0


class Mesh:
    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-web-mesh-")
        self.a = MeshKernel(args, os.path.join(self.root, "alpha"), "alpha")
        self.b = MeshKernel(args, os.path.join(self.root, "beta"), "beta")
        self.web = Web(args, self.b, self.b.root)
        self.clients = []
        self.a.start()
        self.b.start()
        invite = self.a.ctl("peer", "invite").strip()
        self.b.ctl("peer", "join", invite, "--name", "beta")
        wait_until(lambda: self.a.connected() and self.b.connected(), "alpha and beta to connect",
                   MESH_DEADLINE)
        self.store = self.a.ctl("store", "create", "shared", "--type", "kv").split()[0]
        wait_until(lambda: self.b.has_store(self.store), "the store to reach beta", MESH_DEADLINE)
        self.token = self.b.token("web", "--store", self.store, "--rights", "read,write,watch")
        self.web.start()

    def close(self):
        for client in self.clients:
            client.close()
        try:
            self.web.stop()
        finally:
            self.a.stop()
            self.b.stop()


def write_on_a_seen_on_b(mesh):
    """An event-stream client on beta's lattice-web sees a write made on alpha."""
    client = SseClient(mesh.web, "/api/v1/stores/%s/events" % mesh.store, mesh.token)
    mesh.clients.append(client)
    wait_until(lambda: client.pump() and client.last_id is not None, "the stream to start")
    mesh.a.ctl("kv", "put", mesh.store, "from-alpha", "hello")
    events = client.wait_events(1, "alpha's write on beta's stream", MESH_DEADLINE)
    check(events[0]["data"]["key"] == "from-alpha" and events[0]["data"]["value"] == "hello",
          "event %r" % events[0])
    check(events[0]["data"]["author"] == mesh.a.status()["node"]["id"],
          "the event does not name alpha as its author: %r" % events[0]["data"])


def conflicted_key_heads(mesh):
    """A key written on both nodes while apart is conflicted; ?inspect shows both heads."""
    mesh.a.stop()
    mesh.b.ctl("kv", "put", mesh.store, "both", "from-beta")
    mesh.b.stop()
    mesh.a.start()
    mesh.a.ctl("kv", "put", mesh.store, "both", "from-alpha")
    mesh.b.start()
    wait_until(lambda: mesh.a.connected() and mesh.b.connected(), "the nodes to reconnect",
               MESH_DEADLINE)
    path = "/api/v1/stores/%s/keys/both" % mesh.store

    def conflicted():
        response = mesh.web.request("GET", path + "?inspect", token=mesh.token)
        return response.status == 200 and response.json()["conflicted"] and response.json()

    inspected = wait_until(conflicted, "the key to show both heads", MESH_DEADLINE)
    values = sorted(h["value"] for h in inspected["heads"])
    check(values == ["from-alpha", "from-beta"], "heads %r" % inspected["heads"])
    got = expect(mesh.web.request("GET", path, token=mesh.token), 200, "GET a conflicted key")
    check(got.headers.get("lattice-conflicted") == "true", "no Lattice-Conflicted header")
    check(got.headers["etag"].count(".") == 1, "the ETag does not name both heads")
    # Resolving it with If-Match naming both heads leaves one.
    expect(mesh.web.request("PUT", path, "resolved", {"If-Match": got.headers["etag"]},
                            token=mesh.token), 200, "resolve with If-Match")
    after = expect(mesh.web.request("GET", path + "?inspect", token=mesh.token), 200,
                   "inspect after").json()
    check(not after["conflicted"] and len(after["heads"]) == 1, "after resolving: %r" % after)


SCENARIOS = {f.__name__: f for f in (write_on_a_seen_on_b, conflicted_key_heads)}


def main():
    return run_main(__doc__, SCENARIOS, Mesh)


if __name__ == "__main__":
    sys.exit(main())
