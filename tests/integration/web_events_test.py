#!/usr/bin/python3
"""End-to-end tests of lattice-web's live events: server-sent events read with curl from a real
lattice-web over a real lattice-kernel. A client that drops and comes back with Last-Event-ID
misses nothing and sees nothing twice, also across a restart of lattice-web and of the kernel.

Usage: web_events_test.py --kernel K --ctl C --web W SCENARIO
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_support import (DEADLINE, Kernel, SseClient, Web, check, expect,  # noqa: E402
                         expect_problem, run_main, wait_until)


class World:
    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-web-events-")
        self.kernel = Kernel(args, self.root)
        # Heartbeats every 200 ms so the test sees them without waiting long.
        self.config = os.path.join(self.root, "web.toml")
        with open(self.config, "w") as f:
            f.write("[web]\nheartbeat_ms = 200\n")
        self.web = Web(args, self.kernel, self.root, ["--config", self.config])
        self.kernel.start()
        self.web.start()
        self.admin = self.kernel.admin_cookie()
        expect(self.web.request("POST", "/api/v1/stores", {"name": "feed", "type": "kv"},
                                token=self.admin), 201, "a store")
        self.token = self.kernel.token("watcher", "--store", "feed",
                                       "--rights", "read,write,watch")
        self.clients = []

    def put(self, key, value):
        return expect(self.web.request("PUT", "/api/v1/stores/feed/keys/" + key, value,
                                       token=self.token), 200, "PUT " + key).json()

    def follow(self, last_event_id=None, prefix=""):
        path = "/api/v1/stores/feed/events" + ("?prefix=" + prefix if prefix else "")
        client = SseClient(self.web, path, self.token, last_event_id)
        self.clients.append(client)
        return client

    def close(self):
        for client in self.clients:
            client.close()
        try:
            self.web.stop()
        finally:
            self.kernel.stop()


def keys_of(events):
    return [e["data"]["key"] for e in events if e["event"] == "change"]


def live_and_resume(world):
    """Writes appear live; a client that drops and reconnects with Last-Event-ID sees the
    rest exactly once, including the middle of a batch."""
    client = world.follow()
    wait_until(lambda: client.pump() and client.last_id is not None,
               "the stream to name its starting position")
    for i in range(3):
        world.put("k%d" % i, "v%d" % i)
    events = client.wait_events(3, "three live events")
    check(keys_of(events) == ["k0", "k1", "k2"], "live events %r" % keys_of(events))
    check(all(e["data"]["value"] == "v%d" % i for i, e in enumerate(events)), "event values")
    check(events[0]["id"] == str(events[0]["data"]["cursor"]), "an event's id is its cursor")
    wait_until(lambda: client.pump() and client.comments >= 1, "a heartbeat")

    # A batch of three keys: one intention, three events with ids c.1, c.2 and c.
    world.web.request("POST", "/api/v1/stores/feed/batch",
                      {"ops": [{"key": "b%d" % i, "value": "x"} for i in range(3)]},
                      token=world.token)
    events = client.wait_events(6, "the batch's events")
    ids = [e["id"] for e in events[3:]]
    cursor = events[3]["data"]["cursor"]
    check(ids == ["%d.1" % cursor, "%d.2" % cursor, str(cursor)], "batch event ids %r" % ids)
    client.close()

    # Drop in the middle of the batch: resume from its first event.
    middle = world.follow(last_event_id=ids[0])
    world.put("after", "1")
    got = middle.wait_events(3, "the rest of the batch and the next write")
    check(keys_of(got) == ["b1", "b2", "after"], "resumed mid-batch: %r" % keys_of(got))

    # Writes made while no one listens arrive on reconnect, once, in order.
    last = got[-1]["id"]
    middle.close()
    for i in range(5):
        world.put("gap%d" % i, "g")
    resumed = world.follow(last_event_id=last)
    got = resumed.wait_events(5, "the writes made while away")
    check(keys_of(got) == ["gap%d" % i for i in range(5)], "after the gap: %r" % keys_of(got))
    resumed.pump()
    check(len(resumed.events) == 5, "events seen twice: %r" % keys_of(resumed.events))


def restarts(world):
    """A client resuming across a restart of lattice-web and then of the kernel misses nothing
    and sees nothing twice."""
    client = world.follow(prefix="r/")
    wait_until(lambda: client.pump() and client.last_id is not None, "the starting position")
    world.put("r%2F1", "a")
    client.wait_events(1, "the first event")
    world.web.stop()
    client.pump()
    last = client.last_id
    world.web.start(world.web.port)
    world.put("r%2F2", "b")
    world.put("other", "not in the prefix")
    after_web = world.follow(last_event_id=last, prefix="r/")
    got = after_web.wait_events(1, "the write made during the restart")
    check(keys_of(got) == ["r/2"], "after lattice-web's restart: %r" % keys_of(got))

    # The kernel restarts under a live stream: the stream pauses and goes on.
    world.kernel.stop()
    world.kernel.start()
    wait_until(lambda: world.web.request("PUT", "/api/v1/stores/feed/keys/r%2F3", "c",
                                         token=world.token).status == 200,
               "a write after the kernel's restart")
    got = after_web.wait_events(2, "the write after the kernel's restart", 30)
    check(keys_of(got) == ["r/2", "r/3"], "across the kernel restart: %r" % keys_of(got))


def joining_behind_a_feed_that_moved_on(world):
    """A client joining a shared feed from a position the feed has passed, with no event of
    its own in between (writes outside its prefix), is told where the feed stands at once."""
    first = world.follow(prefix="p/")
    wait_until(lambda: first.pump() and first.last_id is not None, "the first client to start")
    start = first.last_id
    world.put("q%2F1", "outside the prefix")
    wait_until(lambda: first.pump() and first.last_id != start,
               "the feed to move past a write outside its prefix")
    # Resumes from the older position: the feed holds no event after it for this prefix.
    late = world.follow(last_event_id=start, prefix="p/")
    wait_until(lambda: late.pump() and late.last_id == first.last_id,
               "the late client to be told the feed's position")
    check(keys_of(late.events) == [], "the late client saw %r" % keys_of(late.events))


def many_watchers_and_slow_readers(world):
    """Two hundred clients of one store share one kernel stream and all see a write; a client
    that never reads its stream is dropped without holding the others up."""
    clients = [world.follow() for _ in range(200)]
    for client in clients:
        wait_until(lambda c=client: c.pump() and c.last_id is not None, "a client to start")
    world.put("fan", "out")
    for client in clients:
        client.wait_events(1, "every client to see the write")
    check(all(keys_of(c.events) == ["fan"] for c in clients), "a client saw something else")
    # A token's kernel streams are bounded (256); 200 clients fit only because they share.
    for client in clients:
        client.close()


def bad_requests(world):
    """A store that does not exist, a token without the watch right, a resume position from
    the future."""
    web = world.web
    expect_problem(web.request("GET", "/api/v1/stores/nope/events", token=world.admin), 404,
                   "events of a missing store")
    reader = world.kernel.token("reader", "--store", "feed", "--rights", "read")
    stream = SseClient(web, "/api/v1/stores/feed/events", reader)
    world.clients.append(stream)
    wait_until(lambda: not stream.pump(), "the stream of a token without watch to end")
    check(any(e["event"] == "error" for e in stream.events), "no error event: %r" % stream.events)


def hostile_clients(world):
    """A thousand idle event streams, a slow-loris client and a client that never reads its
    stream do not stop others being served; the one that never reads is dropped."""
    import resource
    import socket
    import time
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    web = world.web
    def request(prefix):
        return ("GET /api/v1/stores/feed/events?prefix=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\n\r\n" % (prefix, world.token)).encode()
    # The idle streams follow a prefix the big writes below are not under.
    idle = []
    for _ in range(1000):
        s = socket.create_connection(("127.0.0.1", web.port))
        s.sendall(request("idle/"))
        idle.append(s)
    # The slow loris: a request head that never ends, a byte at a time.
    loris = socket.create_connection(("127.0.0.1", web.port))
    loris.sendall(b"GET /api/v1/stores/feed/keys/x HTTP/1.1\r\nHost: 1")
    # The client that never reads, with a small receive buffer so the server's queue fills.
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", web.port))
    stuck.sendall(request("big"))
    started = time.monotonic()
    for i in range(40):
        loris.sendall(b"2")
        world.put("big%d" % i, "x" * 100_000)  # each write also answers within the deadline
    check(time.monotonic() - started < 60, "writes slowed to a crawl beside hostile clients")
    # The idle streams are still open and live: one of them sees a write under its prefix.
    world.put("idle%2Fping", "1")
    last = idle[-1]
    last.settimeout(DEADLINE)
    seen = b""
    while b"idle/ping" not in seen:
        chunk = last.recv(65536)
        check(chunk, "an idle stream was closed")
        seen += chunk

    # The never-reading client's queue passed its limit: the server closed the connection.
    def stuck_closed():
        stuck.setblocking(False)
        try:
            while True:
                chunk = stuck.recv(1 << 20)
                if not chunk:
                    return True
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True
    wait_until(stuck_closed, "the server to drop the client that never reads")
    # The slow loris is cut off by the request timeout; others were served meanwhile.
    expect(web.request("GET", "/api/v1/stores/feed/keys/big0", token=world.token), 200,
           "a request beside a thousand idle streams")
    for s in idle + [loris, stuck]:
        s.close()


SCENARIOS = {f.__name__: f for f in (live_and_resume, restarts, joining_behind_a_feed_that_moved_on,
                                     many_watchers_and_slow_readers, bad_requests,
                                     hostile_clients)}


def main():
    return run_main(__doc__, SCENARIOS, World)


if __name__ == "__main__":
    sys.exit(main())
