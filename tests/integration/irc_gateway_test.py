#!/usr/bin/python3
"""End-to-end tests of lattice-irc: a real lattice-kernel in a temporary directory, a chat
store and a service token made with lattice-ctl, a real lattice-irc, and IRC clients talking
to it: python3-irc (Debian's IRC client library) for ordinary clients, raw sockets where a
test needs exact bytes (capabilities, tags, hostile input).

Usage: irc_gateway_test.py --kernel K --ctl C --irc I --remote-author R SCENARIO
Each scenario starts its own kernel and gateway; ctest runs one scenario per test.
Nothing sleeps to wait: every wait polls for the awaited thing with a deadline and fails
naming what did not happen.
"""

import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import irc.client
import irc.connection

DEADLINE = 20.0  # seconds for anything that should happen "soon"


class TestFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def gateway_msgid(message):
    """The msgid a gateway gave a stored post (`lattice-ctl --json chat history`); a post made
    through lattice-irc always has one, and it is never the message's hash."""
    check("msgid" in message and message["msgid"] != message["hash"],
          "a post from the gateway stored without its msgid: %r" % message)
    return message["msgid"]


def shown_ms(message):
    """The time shown with a stored post: when its gateway showed it (stored with it)."""
    check(message.get("time_ms", 0) > 0, "a post from the gateway stored without its time: %r"
          % message)
    return message["time_ms"]


# ---- Processes ---------------------------------------------------------------------------------


class Kernel:
    """A lattice-kernel on a data directory that survives restarts."""

    def __init__(self, args, root):
        self.binary = args.kernel
        self.ctl_binary = args.ctl
        self.data = os.path.join(root, "data")
        self.socket = os.path.join(root, "kernel.sock")
        self.log_path = os.path.join(root, "kernel.log")
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data, "--socket", self.socket, "--name", "testnode",
             "--listen", ""],
            stdout=log, stderr=log)
        wait_until(lambda: self.ctl_ok("status"), "the kernel to answer on its socket")

    def ctl_ok(self, *args):
        if self.process.poll() is not None:
            raise TestFailure("the kernel exited: " + tail(self.log_path))
        return subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True).returncode == 0

    def ctl(self, *args):
        done = subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True, text=True, timeout=30)
        check(done.returncode == 0, "lattice-ctl %s failed: %s" % (" ".join(args), done.stderr))
        return done.stdout

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Gateway:
    """A lattice-irc on a free loopback port."""

    def __init__(self, args, kernel, root, store, token, extra=(), command=None, env=None):
        self.log_path = os.path.join(root, "irc-%d.log" % time.monotonic_ns())
        if env is None:
            env = dict(os.environ, LATTICE_TOKEN=token)
            env.pop("LATTICE_SOCKET", None)
        if command is None:
            command = [args.irc, "--store", store, "--socket", kernel.socket,
                       "--listen", "127.0.0.1:0", "--log-level", "debug", *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=open(self.log_path, "ab"), env=env)
        line = read_line(self.process.stdout, "lattice-irc to print its port", self.log_path)
        match = re.match(r"lattice-irc listening on 127\.0\.0\.1:(\d+)", line)
        check(match, "unexpected first line from lattice-irc: %r" % line)
        self.port = int(match.group(1))

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        check(self.process.returncode == 0,
              "lattice-irc exited with %s: %s" % (self.process.returncode, tail(self.log_path)))


def read_line(stream, what, log_path):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            line = stream.readline().decode()
            if line:
                return line.strip()
            raise TestFailure("stream closed before %s: %s" % (what, tail(log_path)))
    raise TestFailure("timed out waiting for %s: %s" % (what, tail(log_path)))


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "\n" + "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---- Waiting ------------------------------------------------------------------------------------

PUMPS = []  # callables that make progress on every client while a test waits


def pump_all(timeout=0.02):
    for pump in PUMPS:
        pump(timeout)


def wait_until(predicate, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while True:
        pump_all()
        if predicate():
            return
        if time.monotonic() > end:
            raise TestFailure("timed out after %.0fs waiting for %s" % (deadline, what))
        if not PUMPS:
            time.sleep(0.02)


# ---- Clients ------------------------------------------------------------------------------------

REACTOR = irc.client.IRC()
CLIENTS_BY_CONNECTION = {}


def _dispatch(connection, event):
    client = CLIENTS_BY_CONNECTION.get(connection)
    if client is not None:
        client.on_event(event)


REACTOR.add_global_handler("all_events", _dispatch)
PUMPS.append(lambda timeout: REACTOR.process_once(timeout))


class IrcClient:
    """An ordinary client made with python3-irc; records every event and raw line."""

    def __init__(self, port, nick, password=None, caps=None):
        self.nick = nick
        self.events = []
        self.raw = []
        self.disconnected = False
        self.connection = REACTOR.server()
        CLIENTS_BY_CONNECTION[self.connection] = self
        factory = irc.connection.Factory()
        if caps:
            # CAP LS before NICK/USER, as capability-aware clients do.
            plain = factory

            def factory(address):
                sock = plain(address)
                sock.sendall(b"CAP LS 302\r\n")
                return sock
            self.caps = caps
        else:
            self.caps = None
        self.connection.connect("127.0.0.1", port, nick, password=password, username=nick,
                                ircname=nick.capitalize() + " Tester", connect_factory=factory)
        wait_until(lambda: self.has("welcome") or self.disconnected, nick + " to be welcomed")

    def on_event(self, event):
        if event.type == "all_raw_messages":
            self.raw.append(event.arguments[0])
            line = event.arguments[0]
            if self.caps and " CAP " in line and " LS " in line:
                self.connection.send_raw("CAP REQ :" + " ".join(self.caps))
            elif self.caps and " CAP " in line and (" ACK " in line or " NAK " in line):
                self.connection.send_raw("CAP END")
            return
        if event.type == "disconnect":
            self.disconnected = True
        self.events.append(event)

    def has(self, kind, predicate=lambda e: True):
        return any(e.type == kind and predicate(e) for e in self.events)

    def of(self, kind):
        return [e for e in self.events if e.type == kind]

    def channel_texts(self, channel):
        return [(e.source.nick, e.arguments[0]) for e in self.events
                if e.type == "pubmsg" and e.target.lower() == channel.lower()]

    def join(self, channel):
        self.connection.join(channel)
        wait_until(lambda: self.has("endofnames",
                                    lambda e: e.arguments[0].lower() == channel.lower()),
                   "%s to join %s" % (self.nick, channel))

    def say(self, channel, text):
        self.connection.privmsg(channel, text)

    def close(self):
        CLIENTS_BY_CONNECTION.pop(self.connection, None)
        try:
            self.connection.close()
        except Exception:
            pass


class RawClient:
    """A socket speaking IRC line by line, for exact bytes."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.buffer = b""
        self.lines = []
        self.closed = False
        self.reading = True
        PUMPS.append(self.pump)

    def pump(self, timeout=0):
        if self.closed or not self.reading:
            return
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except ConnectionError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.buffer += data
            while b"\r\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\r\n", 1)
                self.lines.append(line.decode("utf-8"))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.setblocking(True)
        self.sock.settimeout(DEADLINE)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def line(self, text):
        self.send(text.encode() + b"\r\n")

    def register(self, nick, caps=()):
        if caps:
            self.line("CAP LS 302")
            self.line("CAP REQ :" + " ".join(caps))
        self.line("NICK " + nick)
        self.line("USER %s 0 * :%s" % (nick, nick))
        if caps:
            self.line("CAP END")
        self.wait_for(lambda l: " 001 " + nick + " " in l, nick + " to be welcomed")

    def wait_for(self, predicate, what, deadline=DEADLINE):
        wait_until(lambda: any(predicate(l) for l in self.lines), what, deadline)
        return next(l for l in self.lines if predicate(l))

    def close(self):
        self.closed = True
        self.sock.close()


# ---- Fixture ------------------------------------------------------------------------------


class World:
    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-irc-test-")
        self.kernel = Kernel(args, self.root)
        self.gateways = []
        try:
            self.setup()
        except BaseException:
            self.kernel.stop()
            raise

    def setup(self):
        self.kernel.start()
        self.store = "chat1"
        self.kernel.ctl("store", "create", self.store, "--type", "chat")
        out = self.kernel.ctl("token", "create", "irc", "--store", self.store,
                              "--rights", "read,write,watch")
        self.token = re.search(r"token:\s*(\S+)", out).group(1)
        self.node_id = json.loads(self.kernel.ctl("--json", "status"))["node"]["id"]

    def gateway(self, *extra, command=None, env=None):
        gateway = Gateway(self.args, self.kernel, self.root, self.store, self.token, extra,
                          command, env)
        self.gateways.append(gateway)
        return gateway

    def history(self, channel):
        out = json.loads(self.kernel.ctl("--json", "chat", "history", self.store, channel,
                                         "--limit", "1000"))
        return out["messages"]

    def remote(self, state, sender, channel, *texts, kind="post"):
        command = [self.args.remote_author, "--socket", self.kernel.socket, "--store", self.store,
                   "--state", os.path.join(self.root, state), "--sender", sender,
                   "--channel", channel, "--kind", kind]
        for text in texts:
            command += ["--text", text]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        check(done.returncode == 0, "irc_remote_author failed: " + done.stderr)
        return done.stdout.split()[0]

    def close(self, ok):
        close_world(self.root, self.gateways, [self.kernel], ok)


def close_world(root, gateways, kernels, ok):
    """Closes every client, stops the gateways (each must exit cleanly when the scenario
    passed) and the kernels; removes `root` after a pass, or keeps it and prints the logs."""
    for client in list(CLIENTS_BY_CONNECTION.values()):
        client.close()
    for gateway in gateways:
        if ok:
            gateway.stop()
        elif gateway.alive():
            gateway.process.kill()
    for kernel in kernels:
        kernel.stop()
    if ok:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("kept " + root + " for inspection", file=sys.stderr)
        for gateway in gateways:
            print("gateway log:" + tail(gateway.log_path, 60), file=sys.stderr)
        if len(kernels) > 1:
            for kernel in kernels:
                print("%s:%s" % (kernel.log_path, tail(kernel.log_path, 40)), file=sys.stderr)


def short(node_id):
    return node_id[:8]


# ---- Scenarios ----------------------------------------------------------------------------


def register_join_talk(world):
    """Two ordinary clients register, join, and talk; each line arrives once, in order, with
    the sender's hostmask; a third client with echo-message sees its own lines once."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    bob = IrcClient(gw.port, "bob")
    check(alice.has("welcome"), "alice was not welcomed")
    check(alice.has("featurelist"), "no 005 ISUPPORT")
    check(alice.has("nomotd") or alice.has("endofmotd"), "no MOTD or 422")
    alice.join("#general")
    bob.join("#General")
    wait_until(lambda: alice.has("join", lambda e: e.source.nick == "bob"), "alice to see bob join")

    for i in range(5):
        alice.say("#general", "hello %d from alice" % i)
    bob.say("#general", "hi alice")
    wait_until(lambda: len(bob.channel_texts("#general")) >= 5, "bob to get alice's lines")
    wait_until(lambda: len(alice.channel_texts("#general")) >= 1, "alice to get bob's line")
    check(bob.channel_texts("#general") == [("alice", "hello %d from alice" % i) for i in range(5)],
          "bob got %r" % bob.channel_texts("#general"))
    check(alice.channel_texts("#general") == [("bob", "hi alice")],
          "alice got %r (her own lines must not echo without echo-message)"
          % alice.channel_texts("#general"))
    source = [e.source for e in bob.of("pubmsg")][0]
    check(source == "alice!alice@%s.lattice" % short(world.node_id), "hostmask %s" % source)

    carol = RawClient(gw.port)
    carol.register("carol", caps=["echo-message", "server-time"])
    carol.line("JOIN #general")
    carol.wait_for(lambda l: " 366 carol #general " in l, "carol to join")
    carol.line("PRIVMSG #general :carol here")
    wait_until(lambda: ("carol", "carol here") in alice.channel_texts("#general"),
               "alice to get carol's line")
    carol.wait_for(lambda l: l.endswith("PRIVMSG #general :carol here"), "carol's echo")
    wait_until(lambda: ("carol", "carol here") in bob.channel_texts("#general"), "bob")
    mine = [l for l in carol.lines if "PRIVMSG #general :carol here" in l]
    check(len(mine) == 1, "carol's echo came %d times" % len(mine))
    check(mine[0].startswith("@time="), "echo without server-time tag: " + mine[0])

    # A private message between two local users.
    alice.connection.privmsg("bob", "psst")
    wait_until(lambda: bob.has("privmsg", lambda e: e.arguments[0] == "psst"),
               "bob's private message")
    # The store holds each channel line exactly once, each sender's lines in order (alice's
    # and bob's were sent concurrently).
    texts = [m["text"] for m in world.history("general")]
    expected = ["hello %d from alice" % i for i in range(5)] + ["hi alice", "carol here"]
    check(sorted(texts) == sorted(expected), "store history %r" % texts)
    check([t for t in texts if t.startswith("hello")] == expected[:5], "alice's order %r" % texts)
    alice.connection.quit("bye now")
    wait_until(lambda: bob.has("quit", lambda e: e.source.nick == "alice"), "bob to see alice quit")


def topic_names_queries(world):
    """TOPIC is written to the store and shown to everyone; a later joiner gets the topic,
    the names, WHO, WHOIS, LIST and MODE answers clients expect."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    bob = IrcClient(gw.port, "bob")
    alice.join("#dev")
    bob.join("#dev")
    alice.connection.topic("#dev", "Release on Friday")
    wait_until(lambda: bob.has("topic", lambda e: e.arguments[0] == "Release on Friday"),
               "bob to see the topic change")
    wait_until(lambda: alice.has("topic", lambda e: e.arguments[0] == "Release on Friday"),
               "alice to see her topic change")
    shown = world.kernel.ctl("chat", "topic", world.store, "dev")
    check("Release on Friday" in shown, "the store's topic is %r" % shown)

    carol = IrcClient(gw.port, "carol")
    carol.join("#dev")
    topic = carol.of("currenttopic")
    check(topic and topic[0].arguments == ["#dev", "Release on Friday"], "332: %r" % topic)
    check(carol.has("topicinfo", lambda e: e.arguments[1] == "alice"), "333 names alice")
    names = " ".join(e.arguments[2] for e in carol.of("namreply"))
    check(set(names.split()) == {"@alice", "bob", "carol"}, "names (alice came first): %r" % names)

    carol.connection.who("#dev")
    wait_until(lambda: carol.has("endofwho"), "end of WHO")
    check({e.arguments[4] for e in carol.of("whoreply")} == {"alice", "bob", "carol"}, "WHO")
    carol.connection.whois(["alice"])
    wait_until(lambda: carol.has("endofwhois"), "end of WHOIS")
    user = carol.of("whoisuser")[0]
    check(user.arguments[:3] == ["alice", "alice", short(world.node_id) + ".lattice"],
          "WHOIS user %r" % user.arguments)
    check(carol.has("whoischannels", lambda e: "#dev" in e.arguments[1]), "WHOIS channels")
    carol.connection.list()
    wait_until(lambda: carol.has("listend"), "end of LIST")
    rows = {e.arguments[0]: e.arguments[1:] for e in carol.of("list")}
    check(rows.get("#dev") == ["3", "Release on Friday"], "LIST: %r" % rows)
    carol.connection.mode("#dev", "")
    wait_until(lambda: carol.has("channelmodeis"), "324")
    carol.connection.send_raw("MODE #dev +o carol")
    wait_until(lambda: carol.has("chanoprivsneeded"), "482 for a mode change")
    carol.connection.send_raw("AWAY :lunch")
    wait_until(lambda: carol.has("nowaway"), "306")
    bob.connection.privmsg("carol", "you there?")
    wait_until(lambda: bob.has("away", lambda e: e.arguments[1] == "lunch"), "301 for bob")
    carol.connection.send_raw("FROBNICATE now")
    wait_until(lambda: carol.has("unknowncommand"), "421")
    carol.connection.send_raw("JOIN")
    wait_until(lambda: carol.has("needmoreparams"), "461")
    carol.connection.privmsg("#elsewhere", "x")
    wait_until(lambda: carol.has("cannotsendtochan"), "404")
    carol.connection.part(["#dev"], "later")
    wait_until(lambda: alice.has("part", lambda e: e.source.nick == "carol"),
               "alice sees carol part")


def history_on_join(world):
    """A client joining later gets the last N messages in a chathistory batch, each with its
    original time as stored (server-time), then live messages without duplicates."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    alice.join("#general")
    for i in range(8):
        alice.say("#general", "old %d" % i)
    wait_until(lambda: len(world.history("general")) == 8, "8 messages in the store")
    stored = world.history("general")

    carol = RawClient(gw.port)
    carol.register("carol", caps=["server-time", "batch", "message-tags"])
    carol.line("JOIN #general")
    wait_until(lambda: batch_ref(carol.lines) is not None and any(
        l.endswith(" BATCH -" + batch_ref(carol.lines)) for l in carol.lines),
        "the end of the history batch")
    ref = batch_ref(carol.lines)
    played = [l for l in carol.lines if ("batch=" + ref) in l and " PRIVMSG " in l]
    check(len(played) == 8, "played %d lines: %r" % (len(played), played))
    for line, message in zip(played, stored):
        tags = dict(t.split("=", 1) for t in line[1:line.index(" ")].split(";"))
        check(tags["time"] == iso_ms(shown_ms(message)),
              "time tag %s for a message shown at %s" % (tags["time"], shown_ms(message)))
        check(tags["msgid"] == gateway_msgid(message), "msgid")
        check(line.endswith("PRIVMSG #general :" + message["text"]), line)
    # Order: JOIN, names, then the batch.
    joined = next(i for i, l in enumerate(carol.lines) if " JOIN #general" in l)
    names_end = next(i for i, l in enumerate(carol.lines) if " 366 carol #general" in l)
    start = next(i for i, l in enumerate(carol.lines)
                 if ("BATCH +" + ref + " chathistory #general") in l)
    check(joined < names_end < start, "JOIN, 366 and BATCH out of order")
    alice.say("#general", "live one")
    carol.wait_for(lambda l: l.endswith(":live one"), "a live message after the history")
    check(sum(1 for l in carol.lines if l.endswith(":old 7")) == 1, "old 7 played twice")

    # --history N limits the playback; a client without batch gets plain lines.
    gw3 = world.gateway("--history", "3")
    dave = RawClient(gw3.port)
    dave.register("dave", caps=["server-time"])
    dave.line("JOIN #general")
    dave.wait_for(lambda l: l.endswith(":live one"), "dave's playback")
    plain = [l for l in dave.lines if " PRIVMSG #general " in l]
    check([l.rsplit(":", 1)[1] for l in plain] == ["old 6", "old 7", "live one"],
          "dave got %r" % plain)
    check(all(l.startswith("@time=") and "batch=" not in l for l in plain),
          "dave's tags %r" % plain)
    # python3-irc, which negotiates nothing, gets the history as ordinary messages.
    erin = IrcClient(gw3.port, "erin")
    erin.join("#general")
    wait_until(lambda: len(erin.channel_texts("#general")) == 3, "erin's playback")


def batch_ref(lines):
    for line in lines:
        match = re.search(r" BATCH \+(\S+) chathistory ", line)
        if match:
            return match.group(1)
    return None


def iso_ms(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def ctl_post_reaches_irc(world):
    """Messages and topics written with lattice-ctl (outside IRC) reach IRC clients."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    alice.join("#ops")
    world.kernel.ctl("chat", "post", world.store, "ops", "deploy finished", "--sender", "deploybot")
    wait_until(lambda: ("deploybot", "deploy finished") in alice.channel_texts("#ops"),
               "the lattice-ctl post")
    join = [e for e in alice.of("join") if e.source.nick == "deploybot"]
    check(join and join[0].source == "deploybot!deploybot@%s.lattice" % short(world.node_id),
          "deploybot's JOIN %r" % [str(e.source) for e in join])
    world.kernel.ctl("chat", "post", world.store, "ops", "anonymous note")
    anonymous = "node-" + short(world.node_id)
    wait_until(lambda: (anonymous, "anonymous note") in alice.channel_texts("#ops"),
               "a post without a sender")
    world.kernel.ctl("chat", "post", world.store, "ops", "stretches", "--sender", "deploybot",
                     "--action")
    wait_until(lambda: alice.has("action", lambda e: e.arguments[0] == "stretches"), "an action")
    world.kernel.ctl("chat", "topic", world.store, "ops", "Maintenance at 18:00",
                     "--sender", "deploybot")
    wait_until(lambda: alice.has("topic", lambda e: e.arguments[0] == "Maintenance at 18:00"),
               "the topic from lattice-ctl")
    # A sender whose name is a local nick on this node is that user.
    world.kernel.ctl("chat", "post", world.store, "ops", "written elsewhere", "--sender", "alice")
    wait_until(lambda: ("alice", "written elsewhere") in alice.channel_texts("#ops"),
               "a post as alice from lattice-ctl")


def kernel_restart_loses_nothing(world):
    """kill -9 the kernel under a running gateway, talk meanwhile, restart it on the same
    data and socket: clients stay connected and every message arrives once, in order."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    bob = IrcClient(gw.port, "bob")
    alice.join("#general")
    bob.join("#general")
    alice.say("#general", "before")
    wait_until(lambda: ("alice", "before") in bob.channel_texts("#general"), "the first line")

    world.kernel.kill9()
    sent_by_alice = ["while down %d" % i for i in range(6)]
    sent_by_bob = ["bob while down %d" % i for i in range(3)]
    for text in sent_by_alice:
        alice.say("#general", text)
    for text in sent_by_bob:
        bob.say("#general", text)
    # Give the gateway's writer and watch time to notice: poll until it has logged the loss.
    wait_until(lambda: "retrying" in tail(gw.log_path, 200)
               or "interrupted" in tail(gw.log_path, 200),
               "the gateway to notice the kernel is gone")
    check(not alice.disconnected and not bob.disconnected, "a client was disconnected")
    check(gw.alive(), "the gateway died with the kernel")

    world.kernel.start()
    wait_until(lambda: len(bob.channel_texts("#general")) >= 1 + len(sent_by_alice),
               "bob to receive alice's lines after the restart", deadline=60)
    wait_until(lambda: len(alice.channel_texts("#general")) >= len(sent_by_bob),
               "alice to receive bob's lines after the restart", deadline=60)
    world.kernel.ctl("chat", "post", world.store, "general", "after restart", "--sender", "ops")
    wait_until(lambda: ("ops", "after restart") in bob.channel_texts("#general"),
               "a post made after the restart")
    wait_until(lambda: ("ops", "after restart") in alice.channel_texts("#general"), "alice too")

    got_bob = [t for n, t in bob.channel_texts("#general") if n == "alice"]
    got_alice = [t for n, t in alice.channel_texts("#general") if n == "bob"]
    check(got_bob == ["before"] + sent_by_alice, "bob got %r" % got_bob)
    check(got_alice == sent_by_bob, "alice got %r" % got_alice)
    check(not alice.disconnected and not bob.disconnected, "a client was disconnected")
    texts = [m["text"] for m in world.history("general")]
    for text in ["before"] + sent_by_alice + sent_by_bob:
        check(texts.count(text) == 1, "%r is stored %d times" % (text, texts.count(text)))
    alice_stored = [t for t in texts if t in sent_by_alice]
    check(alice_stored == sent_by_alice, "alice's lines stored out of order: %r" % alice_stored)


def hostile_client(world):
    """One client floods garbage, oversized lines and invalid UTF-8; another pair keeps
    chatting normally and notices nothing; the flooder gets numerics, then an ERROR."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    bob = IrcClient(gw.port, "bob")
    alice.join("#general")
    bob.join("#general")

    eve = RawClient(gw.port)
    eve.register("eve")
    eve.line("JOIN #general")
    eve.wait_for(lambda l: " 366 eve #general " in l, "eve to join")
    eve.send(b"PRIVMSG #general :caf\xe9 \xff\xfe\r\n")
    eve.wait_for(lambda l: "UTF-8 only" in l, "the UTF-8 notice")
    wait_until(lambda: any("caf\ufffd" in t for n, t in bob.channel_texts("#general")),
               "the repaired line")
    eve.send(b"PRIVMSG #general :" + b"x" * 600 + b"\r\n")
    eve.wait_for(lambda l: " 417 eve " in l, "417 for an oversized line")
    eve.send(b"@" + b"t" * 9000 + b" PING x\r\n")
    wait_until(lambda: len([l for l in eve.lines if " 417 eve " in l]) >= 2,
               "417 for oversized tags")
    eve.send(b"\x00\x01\x02 garbage\r\nNOTACOMMAND\r\n:prefix\r\n\r\n\r\n")
    eve.wait_for(lambda l: " 421 eve NOTACOMMAND " in l, "421")

    # The flood: far more than the input bound (128 KiB), as fast as the socket takes it.
    flood = b"".join(b"PRIVMSG #general :flood %d\r\n" % i for i in range(8000))
    flood += b"A" * 20000  # and an endless line
    try:
        eve.send(flood)
    except (ConnectionError, socket.timeout):
        pass
    for i in range(10):
        alice.say("#general", "normal %d" % i)
        bob.say("#general", "reply %d" % i)
    wait_until(lambda: eve.closed, "the flooder to be disconnected")
    check(any(l.startswith("ERROR :Closing link") and "Excess Flood" in l for l in eve.lines),
          "no ERROR for the flooder: %r" % eve.lines[-3:])
    wait_until(lambda: len([t for n, t in bob.channel_texts("#general") if n == "alice"]) == 10,
               "bob to get alice's 10 lines")
    wait_until(lambda: len([t for n, t in alice.channel_texts("#general") if n == "bob"]) == 10,
               "alice to get bob's 10 lines")
    check([t for n, t in bob.channel_texts("#general") if n == "alice"] ==
          ["normal %d" % i for i in range(10)], "alice's lines out of order")
    flood_seen = len([t for n, t in bob.channel_texts("#general") if t.startswith("flood")])
    check(flood_seen <= 100, "%d flood lines got through the flood control" % flood_seen)
    wait_until(lambda: bob.has("quit", lambda e: e.source.nick == "eve"), "eve's QUIT")
    check(gw.alive(), "the gateway died")


def slow_reader(world):
    """A client that never reads does not stall anyone: its send queue fills up to the limit
    and it is disconnected, while the others keep getting every line."""
    gw = world.gateway("--flood-burst", "1000", "--flood-rate", "1000", "--sendq-bytes", "65536")
    alice = IrcClient(gw.port, "alice")
    bob = IrcClient(gw.port, "bob")
    alice.join("#general")
    bob.join("#general")
    sloth = RawClient(gw.port, rcvbuf=4096)
    sloth.register("sloth")
    sloth.line("JOIN #general")
    sloth.wait_for(lambda l: " 366 sloth #general " in l, "sloth to join")
    sloth.reading = False  # from now on it never reads
    text = "y" * 400
    sent = 0
    # Talk until the gateway gives up on the slow reader (a few hundred lines), checking
    # after each round that alice and bob were never held up by it.
    while not bob.has("quit", lambda e: e.source.nick == "sloth"):
        check(sent < 3000, "3000 lines and the slow reader is still connected")
        for i in range(sent, sent + 100):
            alice.say("#general", "%d %s" % (i, text))
        sent += 100
        wait_until(lambda: len(bob.channel_texts("#general")) == sent,
                   "bob to get line %d" % (sent - 1), 60)
    check([int(t.split()[0]) for n, t in bob.channel_texts("#general")] == list(range(sent)),
          "bob's lines out of order")
    quit = [e for e in bob.of("quit") if e.source.nick == "sloth"][0]
    check("SendQ exceeded" in quit.arguments[0], "quit reason %r" % quit.arguments)
    check(gw.alive(), "the gateway died")


def remote_authors(world):
    """Messages signed by other nodes (ingested as replication would deliver them) show the
    author's node in the hostmask, appear with a JOIN, never collide with local nicks, and
    the topic they set is shared."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    alice.join("#general")
    node_x = world.remote("x.state", "dave", "general", "hello from node x")
    wait_until(lambda: ("dave", "hello from node x") in alice.channel_texts("#general"),
               "dave's message")
    dave_join = [e for e in alice.of("join") if e.source.nick == "dave"]
    check(len(dave_join) == 1 and dave_join[0].source == "dave!dave@%s.lattice" % short(node_x),
          "dave's JOIN: %r" % [str(e.source) for e in dave_join])

    # Same nick as a local user, and the same nick on two remote nodes.
    world.remote("x.state", "alice", "general", "i am alice of x")
    node_y = world.remote("y.state", "dave", "general", "i am dave of y")
    alice_x = "alice|" + short(node_x)
    dave_y = "dave|" + short(node_y)
    wait_until(lambda: (alice_x, "i am alice of x") in alice.channel_texts("#general"), alice_x)
    wait_until(lambda: (dave_y, "i am dave of y") in alice.channel_texts("#general"), dave_y)
    check(alice.has("join", lambda e: e.source == "%s!alice@%s.lattice" % (alice_x, short(node_x))),
          "alice|x JOIN")
    alice.connection.names(["#general"])
    wait_until(lambda: len(alice.of("endofnames")) >= 2, "NAMES")
    names = set(" ".join(e.arguments[2] for e in alice.of("namreply")).split())
    check({"@alice", "dave", alice_x, dave_y} <= names, "names %r" % names)
    alice.connection.whois(["dave"])
    wait_until(lambda: alice.has("endofwhois"), "WHOIS dave")
    check(alice.has("whoisserver", lambda e: node_x in e.arguments[2]), "WHOIS shows the node")

    # A local client taking a remote nick: the remote user is renamed, visibly.
    bob = IrcClient(gw.port, "dave")
    wait_until(lambda: alice.has("nick", lambda e: e.source.nick == "dave"
                                 and e.target == "dave|" + short(node_x)),
               "the remote dave to become dave|" + short(node_x))
    bob.join("#general")
    world.remote("x.state", "dave", "general", "still dave of x")
    wait_until(lambda: ("dave|" + short(node_x), "still dave of x")
               in bob.channel_texts("#general"),
               "bob to see the remote dave under its new nick")

    # A topic set on another node.
    world.remote("y.state", "dave", "general", "Topic from node y", kind="topic")
    wait_until(lambda: bob.has("topic", lambda e: e.arguments[0] == "Topic from node y"
                               and e.source.nick == dave_y), "the remote topic")

    # History on join shows remote users with their node in the hostmask.
    carol = RawClient(gw.port)
    carol.register("carol", caps=["batch", "server-time"])
    carol.line("JOIN #general")
    carol.wait_for(lambda l: l.endswith(":still dave of x"), "carol's history")
    wanted = "%s!alice@%s.lattice PRIVMSG #general :i am alice of x" % (alice_x, short(node_x))
    check(any(wanted in l for l in carol.lines), "history hostmask for alice of x")


def connection_policies(world):
    """PASS is required when configured; idle clients are pinged and a client that does
    not answer is dropped, while a client that answers (python3-irc does) stays."""
    gw = world.gateway("--password", "s3cret", "--ping-interval", "1", "--ping-timeout", "2")
    nopass = RawClient(gw.port)
    nopass.line("NICK nopass")
    nopass.line("USER nopass 0 * :x")
    nopass.wait_for(lambda l: " 464 " in l, "464 without PASS")
    wait_until(lambda: nopass.closed, "the client without PASS to be closed")

    good = IrcClient(gw.port, "good", password="s3cret")
    check(good.has("welcome"), "a client with the password was not welcomed")
    mute = RawClient(gw.port)
    mute.line("PASS s3cret")
    mute.register("mute")
    mute.wait_for(lambda l: l.startswith("PING "), "the server's PING")
    wait_until(lambda: mute.closed, "the silent client to be dropped", 15)
    check(any("Ping timeout" in l for l in mute.lines),
          "no ping timeout ERROR: %r" % mute.lines[-3:])
    check(not good.disconnected, "the answering client was dropped")
    good.connection.ping("still-here")
    wait_until(lambda: good.has("pong", lambda e: "still-here" in e.arguments), "PONG")


class TmuxClient:
    """A terminal IRC client run in its own tmux server, read from its screen and typed to."""

    def __init__(self, name, command):
        if not shutil.which(name) or not shutil.which("tmux"):
            print("%s or tmux is not installed; skipping" % name)
            sys.exit(77)
        self.name = name
        self.session = "lattice-%s-%d" % (name, os.getpid())
        self.tmux = ["tmux", "-L", self.session]
        subprocess.run(self.tmux + ["new-session", "-d", "-s", self.session, "-x", "200",
                                    "-y", "50", command], check=True)

    def screen(self):
        return subprocess.run(self.tmux + ["capture-pane", "-p", "-t", self.session],
                              capture_output=True, text=True).stdout

    def type_line(self, text):
        subprocess.run(self.tmux + ["send-keys", "-t", self.session, "-l", text], check=True)
        subprocess.run(self.tmux + ["send-keys", "-t", self.session, "Enter"], check=True)

    def wait_for(self, condition, what, timeout=None):
        """wait_until, with the client's screen printed when it fails."""
        try:
            wait_until(condition, what, *([timeout] if timeout else []))
        except TestFailure:
            print("%s's screen:\n%s" % (self.name, self.screen()), file=sys.stderr)
            raise

    def close(self):
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)


def talk_through(client, alice, nick, said, heard):
    """`client` (joined to #general as `nick`) says `said`, which alice must get; alice says
    `heard`, which must show on the client's screen; then the client quits."""
    client.type_line(said)
    client.wait_for(lambda: (nick, said) in alice.channel_texts("#general"), nick + "'s line")
    alice.say("#general", heard)
    client.wait_for(lambda: heard in client.screen(), "alice's line on %s's screen" % nick)
    client.type_line("/quit")
    client.wait_for(lambda: alice.has("quit", lambda e: e.source.nick == nick), nick + "'s QUIT")


def irssi_smoke(world):
    """irssi, driven in tmux, registers, joins and talks with a python3-irc client."""
    gw = world.gateway()
    home = os.path.join(world.root, "irssi")
    os.makedirs(home)
    alice = IrcClient(gw.port, "alice")
    alice.join("#general")
    irssi = TmuxClient("irssi", "irssi --home=%s -n ircuser -c 127.0.0.1 -p %d" % (home, gw.port))
    try:
        irssi.wait_for(lambda: "Welcome to the Lattice IRC gateway" in irssi.screen()
                       or "ircuser" in irssi.screen() and "422" in irssi.screen(),
                       "irssi to register")
        # A key typed while irssi is still busy with the welcome burst can be taken as part
        # of a paste and held, so the command is typed again (JOIN is idempotent) until the
        # gateway has seen it.
        joined = lambda: alice.has("join", lambda e: e.source.nick == "ircuser")
        for attempt in range(4):
            irssi.type_line("/join #general")
            if attempt == 3:
                irssi.wait_for(joined, "irssi's JOIN", 5)
                break
            try:
                wait_until(joined, "irssi's JOIN", 5)
                break
            except TestFailure:
                continue
        talk_through(irssi, alice, "ircuser", "hello from irssi", "hello irssi")
    finally:
        irssi.close()


def weechat_smoke(world):
    """WeeChat, driven in tmux, registers, autojoins and talks with a python3-irc client."""
    gw = world.gateway()
    home = os.path.join(world.root, "weechat")
    os.makedirs(home)
    setup = ("/server add lattice 127.0.0.1/%d;/set irc.server.lattice.nicks wcuser;"
             "/set irc.server.lattice.autojoin #general;/connect lattice" % gw.port)
    alice = IrcClient(gw.port, "alice")
    alice.join("#general")
    weechat = TmuxClient("weechat", "weechat --dir %s --run-command '%s'" % (home, setup))
    try:
        weechat.wait_for(lambda: alice.has("join", lambda e: e.source.nick == "wcuser"),
                         "WeeChat's JOIN (autojoin)")
        # WeeChat shows the channel's buffer once joined; a line typed there goes to it.
        weechat.wait_for(lambda: "#general" in weechat.screen(), "WeeChat's channel buffer")
        # Its notify list rides on MONITOR (ISUPPORT MONITOR=): a nick that connects later,
        # sharing no channel, is announced on WeeChat's screen as it comes and goes.
        weechat.type_line("/notify add ginny lattice")
        weechat.type_line("/buffer 1")  # the server's buffer, where WeeChat tells it
        ginny = IrcClient(gw.port, "ginny")
        weechat.wait_for(lambda: re.search(r"ginny.*is connected", weechat.screen()),
                         "WeeChat telling that ginny connected")
        ginny.connection.quit("bye")
        weechat.wait_for(lambda: re.search(r"ginny.*(has quit|is offline)", weechat.screen()),
                         "WeeChat telling that ginny left")
        weechat.type_line("/buffer #general")
        talk_through(weechat, alice, "wcuser", "hello from weechat", "hello weechat")
    finally:
        weechat.close()


def service_descriptor(world):
    """deploy/services/lattice.irc-gateway.toml starts a working gateway the way the
    ServiceManager will: the store flag, the fixed arguments, each setting's default as its
    flag or environment variable, and a clean environment with only LATTICE_SOCKET and
    LATTICE_TOKEN."""
    import tomllib
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                        "services", "lattice.irc-gateway.toml")
    with open(path, "rb") as f:
        descriptor = tomllib.load(f)
    check(descriptor["id"] == "lattice.irc-gateway", "id")
    check(descriptor["binary"] == "lattice-irc", "binary")
    check(descriptor["store_type"] == "chat", "store_type")
    check(sorted(descriptor["token"]["rights"]) == ["read", "watch", "write"], "rights")
    settings = {s["name"]: s for s in descriptor["settings"]}
    check(settings["port"]["default"] == 6667 and settings["port"]["min"] == 1
          and settings["port"]["max"] == 65535, "port setting")
    check(settings["bind"]["default"] == "127.0.0.1", "bind setting")
    check(settings["history"]["default"] == 50, "history setting")
    check("default" not in settings["password"] and settings["password"].get("secret"),
          "password setting")
    # No default: each gateway names itself after its node unless the operator chooses.
    check("default" not in settings["server_name"]
          and settings["server_name"]["flag"] == "--server-name"
          and re.fullmatch(settings["server_name"]["pattern"], "irc.example.org")
          and not re.fullmatch(settings["server_name"]["pattern"], "nodot"),
          "server_name setting")
    for setting in descriptor["settings"]:
        check(("flag" in setting) != ("env" in setting), setting["name"] + ": one of flag/env")
        if "default" in setting and "pattern" in setting:
            check(re.fullmatch(setting["pattern"], str(setting["default"])),
                  setting["name"] + ": default does not match its pattern")

    # The values a node would use: defaults, the port left to the OS (allow_zero), and a
    # password set by the mesh.
    values = {name: s.get("default") for name, s in settings.items()}
    check(descriptor["ports"]["allow_zero"], "allow_zero")
    values["port"] = 0
    values["password"] = "mesh-secret"
    invocation = descriptor["invocation"]
    command = [world.args.irc, invocation["store_flag"], world.store, *invocation["args"]]
    env = {"LATTICE_SOCKET": world.kernel.socket, "LATTICE_TOKEN": world.token}
    for name, setting in settings.items():
        if values.get(name) is None:
            continue
        if "flag" in setting:
            command += [setting["flag"], str(values[name])]
        else:
            env[setting["env"]] = str(values[name])
    gw = world.gateway(command=command, env=env)
    client = IrcClient(gw.port, "alice", password="mesh-secret")
    check(client.has("welcome"), "not welcomed with the declared password")
    client.join("#general")
    intruder = RawClient(gw.port)
    intruder.line("NICK intruder")
    intruder.line("USER intruder 0 * :x")
    intruder.wait_for(lambda l: " 464 " in l, "464 without the password")
    check("mesh-secret" not in " ".join(gw.process.args), "the password is in argv")


def channel_names_agree(world):
    """One channel name means one channel in lattice-ctl, the kernel and IRC: "#general",
    "General" and "general" in lattice-ctl are IRC's #general both ways, and messages an
    earlier version stored under the name as typed ("#legacy") show in IRC's #legacy and in
    lattice-ctl under either spelling."""
    gw = world.gateway()
    alice = IrcClient(gw.port, "alice")
    alice.join("#general")
    world.kernel.ctl("chat", "post", world.store, "#general", "with a hash", "--sender", "bob")
    world.kernel.ctl("chat", "post", world.store, "General", "capitalised", "--sender", "bob")
    wait_until(lambda: ("bob", "with a hash") in alice.channel_texts("#general")
               and ("bob", "capitalised") in alice.channel_texts("#general"),
               "both lattice-ctl posts in IRC's #general")
    channels = json.loads(world.kernel.ctl("--json", "chat", "channels", world.store))["channels"]
    check([(c["name"], c["messages"]) for c in channels] == [("general", 2)],
          "lattice-ctl lists %r" % channels)
    # From IRC to lattice-ctl, with or without the '#'.
    alice.join("#Lattice")
    alice.say("#Lattice", "from irc")
    for name in ("#lattice", "lattice", "#LATTICE"):
        wait_until(lambda: [m["text"] for m in world.history(name)] == ["from irc"],
                   "chat history %s to show the IRC message" % name)
    world.kernel.ctl("chat", "topic", world.store, "#lattice", "Set from lattice-ctl")
    wait_until(lambda: alice.has("topic", lambda e: e.arguments[0] == "Set from lattice-ctl"),
               "the topic set as #lattice in lattice-ctl")
    # Stored as typed by an earlier version (or an older node of the mesh), '#' included.
    world.remote("old.state", "dave", "#legacy", "stored as written")
    carol = IrcClient(gw.port, "carol")
    carol.join("#legacy")
    wait_until(lambda: ("dave", "stored as written") in carol.channel_texts("#legacy"),
               "the earlier message in IRC's #legacy history")
    for name in ("#legacy", "legacy"):
        check([m["text"] for m in world.history(name)] == ["stored as written"],
              "chat history %s: %r" % (name, world.history(name)))
    check(not any(e.target.startswith("##") for e in alice.events + carol.events
                  if e.target), "an IRC channel with a doubled '#'")


# ---- Channel operators and modes -----------------------------------------------------------------


def parts(line):
    """(source, command, params) of a raw line, tags dropped, the trailing parameter last."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1]
    source = ""
    if line.startswith(":"):
        source, line = line[1:].split(" ", 1)
    trailing = None
    if " :" in line:
        line, trailing = line.split(" :", 1)
    params = line.split()
    command = params.pop(0)
    if trailing is not None:
        params.append(trailing)
    return source, command, params


def reply(client, mark, command, what, deadline=DEADLINE):
    """The first line of `command` (a numeric or a verb) the client got after line `mark`."""
    def found():
        return [l for l in client.lines[mark:] if parts(l)[1] == command]
    wait_until(lambda: found(), what, deadline)
    return parts(found()[0])


def command_reply(client, text, command, what, deadline=DEADLINE):
    """Sends `text` and returns the first `command` line that follows it."""
    mark = len(client.lines)
    client.line(text)
    return reply(client, mark, command, what, deadline)


def names_reply(client, channel):
    """The entries of the NAMES reply to a NAMES sent now."""
    mark = len(client.lines)
    client.line("NAMES " + channel)
    reply(client, mark, "366", "end of NAMES of " + channel)
    entries = []
    for line in client.lines[mark:]:
        source, command, params = parts(line)
        if command == "353":
            entries += params[-1].split()
    return entries


def raw_join(client, channel, key=None):
    """JOIN, and the numeric it ends with: 366 when joined, or the error."""
    mark = len(client.lines)
    client.line("JOIN %s%s" % (channel, " " + key if key else ""))
    ends = ("366", "403", "471", "473", "474", "475")
    wait_until(lambda: any(parts(l)[1] in ends for l in client.lines[mark:]),
               "the end of %s's JOIN %s" % (client.nick, channel))
    return next(parts(l)[1] for l in client.lines[mark:] if parts(l)[1] in ends)


def raw_client(port, nick, caps=()):
    client = RawClient(port)
    client.nick = nick
    client.register(nick, caps)
    return client


def channel_operators(world):
    """The first local member of a channel is its operator (@ in NAMES, WHO and WHOIS, with
    multi-prefix and userhost-in-names as negotiated); non-operators get 482; +o/+v/+b apply
    at once on this gateway; bans keep out (474) and silence (404); KICK, STATUSMSG, 324/329,
    367/368, 441 and the ISUPPORT tokens clients need."""
    gw = world.gateway()
    alice = raw_client(gw.port, "alice")
    isupport = " ".join(l for l in alice.lines if parts(l)[1] == "005")
    for token in ("PREFIX=(ov)@+", "CHANMODES=b,k,l,imnst", "STATUSMSG=@+", "MODES="):
        check(token in isupport, "ISUPPORT lacks %s: %s" % (token, isupport))
    bob = raw_client(gw.port, "bob", caps=["multi-prefix", "userhost-in-names"])
    host = short(world.node_id) + ".lattice"
    check(raw_join(alice, "#ops") == "366", "alice's JOIN")
    check(names_reply(alice, "#ops") == ["@alice"], "the creator is not operator in NAMES")
    check(raw_join(bob, "#ops") == "366", "bob's JOIN")
    names = names_reply(bob, "#ops")
    check(sorted(names) == ["@alice!alice@" + host, "bob!bob@" + host],
          "NAMES with userhost-in-names: %r" % names)

    mark = len(bob.lines)
    bob.line("WHO #ops")
    reply(bob, mark, "315", "end of WHO")
    flags = {parts(l)[2][5]: parts(l)[2][6] for l in bob.lines[mark:] if parts(l)[1] == "352"}
    check(flags == {"alice": "H@", "bob": "H"}, "WHO flags: %r" % flags)
    _, _, whois = command_reply(bob, "WHOIS alice", "319", "WHOIS alice's channels")
    check(whois[-1] == "@#ops", "319: %r" % whois)

    # Not an operator: 482, whatever the mode.
    for change in ("+t", "+o bob", "+b x"):
        _, _, params = command_reply(bob, "MODE #ops " + change, "482", "482 for " + change)
        check(params[1] == "#ops", "482: %r" % params)
    _, _, params = command_reply(bob, "KICK #ops alice", "482", "482 for KICK")
    # The operator: +o/-o on someone who is not in the channel is 441; unknown letters 472.
    carol = raw_client(gw.port, "carol")
    for change in ("+o carol", "-o carol"):
        _, _, params = command_reply(alice, "MODE #ops " + change, "441", "441 for " + change)
        check(params[1:3] == ["carol", "#ops"], "441: %r" % params)
    command_reply(alice, "MODE #ops +Z", "472", "472 for an unknown mode")
    _, _, created = command_reply(alice, "MODE #ops", "329", "329 RPL_CREATIONTIME")
    check(created[2].isdigit() and abs(int(created[2]) - time.time()) < 600, "329: %r" % created)
    check(any(parts(l)[1] == "324" for l in alice.lines), "no 324 before 329")

    # +v: shown at once to everyone, with every prefix for multi-prefix clients.
    mark = len(bob.lines)
    alice.line("MODE #ops +vo bob bob")
    _, _, params = reply(bob, mark, "MODE", "bob to see his +vo")
    check(params == ["#ops", "+vo", "bob", "bob"], "MODE: %r" % params)
    check("@+bob!bob@" + host in names_reply(bob, "#ops"), "multi-prefix NAMES")
    check("@bob" in names_reply(alice, "#ops"), "NAMES shows the highest prefix only")
    command_reply(bob, "MODE #ops -o bob", "MODE", "bob's -o")

    # Bans: listed, keep out, and silence a member who matches.
    dave = raw_client(gw.port, "dave")
    check(raw_join(dave, "#ops") == "366", "dave's JOIN")
    command_reply(alice, "MODE #ops +b Carol", "MODE", "the ban of carol")
    mark = len(alice.lines)
    alice.line("MODE #ops +b")
    reply(alice, mark, "368", "end of the ban list")
    bans = [parts(l)[2] for l in alice.lines[mark:] if parts(l)[1] == "367"]
    check([b[1:3] for b in bans] == [["#ops", "Carol!*@*"]], "367: %r" % bans)
    check(bans[0][3].startswith("alice!"), "367 setter: %r" % bans)
    check(raw_join(carol, "#ops") == "474", "a banned client joins")
    command_reply(alice, "MODE #ops +b *!dave@*", "MODE", "the ban of dave")
    _, _, params = command_reply(dave, "PRIVMSG #ops :may I?", "404", "404 for a banned member")
    command_reply(alice, "MODE #ops -b *!dave@*", "MODE", "dave's ban lifted")

    # STATUSMSG: to the operators only.
    mark = len(dave.lines)
    bob.line("PRIVMSG @#ops :ops only")
    _, _, params = reply(alice, 0, "PRIVMSG", "alice to get the message to @#ops")
    check(params == ["@#ops", "ops only"], "STATUSMSG: %r" % params)
    command_reply(dave, "PING barrier", "PONG", "dave's PONG")
    check(not any("ops only" in l for l in dave.lines[mark:]), "dave got the @#ops message")

    # KICK by the operator; 441 for someone not there.
    mark = len(dave.lines)
    alice.line("KICK #ops dave :enough")
    _, _, params = reply(dave, mark, "KICK", "dave to be kicked")
    check(params == ["#ops", "dave", "enough"], "KICK: %r" % params)
    command_reply(alice, "KICK #ops dave", "441", "441 for KICK of a non-member")


def wait_mode(client, mark, channel, what, deadline=DEADLINE):
    """The params of the first MODE for `channel` the client got after `mark`."""
    def found():
        return [parts(l) for l in client.lines[mark:]
                if parts(l)[1] == "MODE" and parts(l)[2][0].lower() == channel.lower()]
    wait_until(lambda: found(), what, deadline)
    return found()[0]


def set_modes(op, channel, change, deadline=DEADLINE):
    """The operator changes settings stored with the channel; returns (source, params) of the
    MODE the store sends back."""
    mark = len(op.lines)
    op.line("MODE %s %s" % (channel, change))
    source, _, params = wait_mode(op, mark, channel, "MODE %s %s to come back" % (channel, change),
                                  deadline)
    return source, params


def channel_settings(world):
    """The settings stored with the channel (t, k, l, i, m) are written to the chat store,
    shown when it has them, and enforced: +t (482 on TOPIC), +k (475), +l (471), +i (473,
    INVITE and 341), +m (404 for PRIVMSG and TAGMSG unless voiced); MODE #chan shows them
    (324)."""
    gw = world.gateway()
    alice = raw_client(gw.port, "alice")
    bob = raw_client(gw.port, "bob")
    check(raw_join(alice, "#set") == "366", "alice's JOIN")
    check(raw_join(bob, "#set") == "366", "bob's JOIN")
    command_reply(bob, "MODE #set +t", "482", "482 for bob's +t")

    mark = len(bob.lines)
    source, params = set_modes(alice, "#set", "+tk sesame")
    check(params == ["#set", "+tk", "sesame"] and source.startswith("alice!"),
          "MODE from the store: %s %r" % (source, params))
    wait_mode(bob, mark, "#set", "bob to see +tk")
    command_reply(bob, "TOPIC #set :mine now", "482", "482 for TOPIC under +t")
    _, _, params = command_reply(alice, "MODE #set", "324", "324")
    check(params[2:] == ["+kt", "sesame"], "324: %r" % params)

    carol = raw_client(gw.port, "carol")
    check(raw_join(carol, "#set") == "475", "JOIN without the key")
    check(raw_join(carol, "#set", "wrong") == "475", "JOIN with a wrong key")
    check(raw_join(carol, "#set", "sesame") == "366", "JOIN with the key")

    set_modes(alice, "#set", "-k+l * 3")
    dave = raw_client(gw.port, "dave")
    check(raw_join(dave, "#set") == "471", "JOIN of a full channel")
    set_modes(alice, "#set", "-l+i")
    check(raw_join(dave, "#set") == "473", "JOIN of an invite-only channel")
    _, _, params = command_reply(alice, "INVITE dave #set", "341", "341 RPL_INVITING")
    check(params[1:] == ["dave", "#set"], "341: %r" % params)
    check(any(parts(l)[1] == "INVITE" for l in dave.lines), "dave got no INVITE")
    check(raw_join(dave, "#set") == "366", "JOIN after an INVITE")

    set_modes(alice, "#set", "+m")
    _, _, params = command_reply(bob, "PRIVMSG #set :hello?", "404", "404 under +m")
    command_reply(bob, "@+typing=active TAGMSG #set", "404", "404 for a TAGMSG under +m")
    command_reply(alice, "MODE #set +v bob", "MODE", "bob's voice")
    mark = len(alice.lines)
    bob.line("PRIVMSG #set :voiced now")
    reply(alice, mark, "PRIVMSG", "alice to hear bob once voiced")
    _, _, params = command_reply(alice, "MODE #set", "324", "324 at the end")
    check(params[2:] == ["+imt"], "324 at the end: %r" % params)
    # A gateway started now reads the settings from the store (Chat.GetChannel).
    gw2 = world.gateway()
    erin = raw_client(gw2.port, "erin")
    check(raw_join(erin, "#set") == "473", "a second gateway lets erin into an +i channel")


def command_of(line):
    """The command or numeric of a server line: "PONG", "366", ..."""
    parts = line.split(" ")
    if parts[0].startswith("@"):
        parts = parts[1:]
    if parts[0].startswith(":"):
        parts = parts[1:]
    return parts[0]


def pump_only(client, predicate, what, deadline=DEADLINE):
    """Reads `client`'s socket alone (no other client is read meanwhile) until one of its
    lines matches; returns that line's index."""
    end = time.time() + deadline
    while time.time() < end:
        for i, line in enumerate(client.lines):
            if predicate(line):
                return i
        select.select([client.sock], [], [], 0.05)
        client.pump()
        check(not client.closed, "connection closed while waiting for " + what)
    raise TestFailure("timed out waiting for " + what)


def pipelined_order(world):
    """Commands sent in one write are answered in the order they were sent: JOIN, TOPIC (set
    and asked), LIST before a PING that follows them; a channel PRIVMSG is delivered to the
    other local member before its sender's next reply, and echoed before it."""
    gw = world.gateway()
    # carol connects before bob, so nothing in the test depends on bob coming first.
    carol = RawClient(gw.port)
    carol.register("carol")
    bob = RawClient(gw.port)
    bob.register("bob")
    bob.line("JOIN #a")
    bob.wait_for(lambda l: " 366 bob #a " in l, "bob to join")
    carol.line("JOIN #a")
    carol.wait_for(lambda l: " 366 carol #a " in l, "carol to join")
    alice = RawClient(gw.port)
    alice.register("alice", caps=["echo-message"])
    del alice.lines[:]

    alice.send(b"JOIN #a\r\nPING :after-join\r\n")
    alice.wait_for(lambda l: l.endswith(":after-join"), "the PONG after JOIN")
    order = [command_of(l) for l in alice.lines]
    check(order.index("JOIN") < order.index("353") < order.index("366") < order.index("PONG"),
          "JOIN answered out of order: %r" % alice.lines)

    del alice.lines[:]
    alice.send(b"TOPIC #a :pipelined topic\r\nPING :after-topic\r\n")
    alice.wait_for(lambda l: l.endswith(":after-topic"), "the PONG after TOPIC")
    order = [command_of(l) for l in alice.lines]
    check(order == ["TOPIC", "PONG"], "TOPIC answered out of order: %r" % alice.lines)

    # A channel nobody here is in: its topic is asked from the kernel.
    world.kernel.ctl("chat", "topic", world.store, "far", "far topic")
    del alice.lines[:]
    alice.send(b"TOPIC #far\r\nPING :after-query\r\nLIST #a,#far\r\nPING :after-list\r\n")
    alice.wait_for(lambda l: l.endswith(":after-list"), "the PONG after LIST")
    order = [command_of(l) for l in alice.lines]
    check(order == ["332", "333", "PONG", "321", "322", "322", "323", "PONG"],
          "TOPIC/LIST answered out of order: %r" % alice.lines)

    # PRIVMSG then PING, with echo-message: the echo comes before the PONG.
    for i in range(10):
        del alice.lines[:]
        alice.send(("PRIVMSG #a :echoed %d\r\nPING :after-echo-%d\r\n" % (i, i)).encode())
        pump_only(alice, lambda l: l.endswith(":after-echo-%d" % i), "the PONG after PRIVMSG")
        order = [command_of(l) for l in alice.lines]
        check(order == ["PRIVMSG", "PONG"], "echo and PONG out of order: %r" % alice.lines)
    # PRIVMSG then PING from carol (no echo-message): the gateway queues bob's copy before
    # carol's PONG, in the one loop turn where the kernel's answer arrives, and writes
    # connections in the order their output was queued. So once carol has her PONG, bob's
    # line is already in his socket: read without waiting, it is there.
    carol.wait_for(lambda l: l.endswith(":echoed 9"), "alice's lines at carol")
    for i in range(20):
        del carol.lines[:]
        carol.send(("PRIVMSG #a :ordered %d\r\nPING :after-msg-%d\r\n" % (i, i)).encode())
        pump_only(carol, lambda l: l.endswith(":after-msg-%d" % i), "the PONG after PRIVMSG")
        check([command_of(l) for l in carol.lines] == ["PONG"], "carol got %r" % carol.lines)
        bob.pump()
        check(any(l.endswith("PRIVMSG #a :ordered %d" % i) for l in bob.lines),
              "carol's PONG arrived before bob had message %d" % i)


def ping_flood_answered(world):
    """200 PINGs in one write get 200 PONGs, in order; none is dropped."""
    gw = world.gateway()
    client = RawClient(gw.port)
    client.register("pinger")
    del client.lines[:]
    client.send(b"".join(b"PING :p%d\r\n" % i for i in range(200)))
    wait_until(lambda: len([l for l in client.lines if " PONG " in l]) == 200, "200 PONGs")
    pongs = [l.rsplit(":", 1)[1] for l in client.lines if " PONG " in l]
    check(pongs == ["p%d" % i for i in range(200)], "PONGs out of order: %r" % pongs[:10])
    check(not client.closed, "the client was disconnected")


def bot_thousand_lines(world):
    """A bot sends 1,000 lines (PRIVMSG and PING alternating) without waiting: it gets every
    PONG in order, another member every message in order, and the store holds each once."""
    gw = world.gateway()
    watcher = RawClient(gw.port)
    watcher.register("watcher")
    watcher.line("JOIN #bot")
    watcher.wait_for(lambda l: " 366 watcher #bot " in l, "watcher to join")
    bot = RawClient(gw.port)
    bot.register("bot")
    bot.line("JOIN #bot")
    bot.wait_for(lambda l: " 366 bot #bot " in l, "bot to join")
    del bot.lines[:]
    paste = []
    for i in range(1000):
        if i % 2 == 0:
            paste.append("PRIVMSG #bot :bot line %d with some text to make it longer" % i)
        else:
            paste.append("PING :bot-%d" % i)
    started = time.time()
    bot.send(("\r\n".join(paste) + "\r\n").encode())
    wait_until(lambda: any(l.endswith(":bot-999") for l in bot.lines), "the last PONG", 120)
    elapsed = time.time() - started
    pongs = [l.rsplit(":", 1)[1] for l in bot.lines if " PONG " in l]
    check(pongs == ["bot-%d" % i for i in range(1, 1000, 2)], "PONGs missing or out of order")
    wait_until(lambda: len([l for l in watcher.lines if " PRIVMSG #bot " in l]) == 500,
               "the watcher to get 500 lines")
    texts = [l.split(" :", 1)[1] for l in watcher.lines if " PRIVMSG #bot " in l]
    check(texts == [paste[i].split(" :", 1)[1] for i in range(0, 1000, 2)],
          "the watcher's lines out of order")
    stored = [m["text"] for m in world.history("bot")]
    check(stored == texts, "the store holds %d lines, not the 500 in order" % len(stored))
    check(not bot.closed, "the bot was disconnected")
    print("1,000 lines answered in %.1f s" % elapsed)


def flood_beyond_the_bound(world):
    """A client whose unhandled input exceeds the hard bound is disconnected with an ERROR
    that says why; its partner keeps talking."""
    gw = world.gateway()
    alice = RawClient(gw.port)
    alice.register("alice")
    alice.line("JOIN #f")
    alice.wait_for(lambda l: " 366 alice #f " in l, "alice to join")
    eve = RawClient(gw.port)
    eve.register("eve")
    eve.line("JOIN #f")
    eve.wait_for(lambda l: " 366 eve #f " in l, "eve to join")
    flood = b"".join(b"PRIVMSG #f :flood line number %d\r\n" % i for i in range(20000))
    try:
        eve.send(flood)
    except (ConnectionError, socket.timeout):
        pass
    wait_until(lambda: eve.closed, "the flooder to be disconnected")
    error = [l for l in eve.lines if l.startswith("ERROR ")]
    check(error and "Excess Flood" in error[0] and "KiB" in error[0],
          "no ERROR saying why: %r" % eve.lines[-3:])
    alice.line("PING :still-here")
    alice.wait_for(lambda l: l.endswith(":still-here"), "alice's PONG")
    check(gw.alive(), "the gateway died")


def conformance_replies(world):
    """--server-name is the prefix of numerics; 417 for an over-long line and over-long
    client tags; 461 for USER with an empty realname; LIST hides empty channels unless asked
    with a mask; invalid UTF-8 gets WARN (text, repaired) or FAIL (a name, refused)."""
    gw = world.gateway("--server-name", "irc.example.test")
    client = RawClient(gw.port)
    client.line("NICK dave")
    client.line("USER dave 0 * :")
    line = client.wait_for(lambda l: " 461 " in l, "461 for an empty realname")
    check(line.startswith(":irc.example.test 461 dave USER "), line)
    client.line("USER dave 0 * :Dave")
    welcome = client.wait_for(lambda l: " 001 " in l, "the welcome")
    check(welcome.startswith(":irc.example.test 001 dave "), welcome)

    client.line("PING " + "x" * 506)
    client.wait_for(lambda l: " 417 dave " in l, "417 for a 513-byte line")
    client.line("@+a=" + "v" * 4092 + " PING :tags")
    wait_until(lambda: len([l for l in client.lines if " 417 dave " in l]) == 2,
               "417 for 4095 bytes of client tags")
    client.line("PING :ok")
    client.wait_for(lambda l: l.endswith(":ok"), "a PONG after the 417s")
    check(not any(l.endswith(":tags") for l in client.lines), "the over-long tags were handled")

    world.kernel.ctl("chat", "post", world.store, "quiet", "nobody is here", "--sender", "x")
    client.line("JOIN #busy")
    client.wait_for(lambda l: " 366 dave #busy " in l, "the join")
    client.line("LIST")
    client.wait_for(lambda l: " 323 " in l, "the end of LIST")
    listed = [l.split(" ")[3] for l in client.lines if " 322 " in l]
    check(listed == ["#busy"], "LIST shows %r" % listed)
    del client.lines[:]
    client.line("LIST *")
    client.wait_for(lambda l: " 323 " in l, "the end of LIST *")
    listed = [l.split(" ")[3] for l in client.lines if " 322 " in l]
    check(listed == ["#busy", "#quiet"], "LIST * shows %r" % listed)

    client.send(b"PRIVMSG #busy :caf\xe9\r\n")
    warn = client.wait_for(lambda l: " WARN " in l, "WARN for invalid UTF-8 text")
    check(warn.startswith(":irc.example.test WARN PRIVMSG INVALID_UTF8 :"), warn)
    client.send(b"JOIN #caf\xe9\r\n")
    fail = client.wait_for(lambda l: " FAIL " in l, "FAIL for an invalid UTF-8 channel")
    check(fail.startswith(":irc.example.test FAIL JOIN INVALID_UTF8 :"), fail)
    wait_until(lambda: [m["text"] for m in world.history("busy")] == ["caf\ufffd"],
               "the repaired text in the store")
    other = RawClient(gw.port)
    other.register("erin")
    other.wait_for(lambda l: " 422 erin " in l or " 376 erin " in l, "the end of the welcome")
    tokens = " ".join(l for l in other.lines if " 005 " in l).split()
    check("UTF8ONLY" in tokens and "ELIST=MNU" in tokens, "ISUPPORT: %r" % tokens)


SCENARIOS = {f.__name__: f for f in [
    register_join_talk, topic_names_queries, history_on_join, ctl_post_reaches_irc,
    kernel_restart_loses_nothing, hostile_client, slow_reader, remote_authors,
    connection_policies, irssi_smoke, weechat_smoke, service_descriptor, channel_names_agree,
    pipelined_order, ping_flood_answered, bot_thousand_lines, flood_beyond_the_bound,
    conformance_replies, channel_operators, channel_settings]}


def run_main(doc, scenarios, make_world, more_binaries=()):
    """Parses --kernel/--ctl/--irc (and `more_binaries`) and a scenario name, runs the
    scenario in a world made by `make_world(args)`, and returns the exit status."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    for flag in ("--kernel", "--ctl", "--irc", *more_binaries):
        parser.add_argument(flag, required=True)
    parser.add_argument("scenario", choices=sorted(scenarios))
    args = parser.parse_args()
    world = make_world(args)
    ok = False
    try:
        scenarios[args.scenario](world)
        ok = True
    except TestFailure as failure:
        print("FAIL %s: %s" % (args.scenario, failure), file=sys.stderr)
        traceback.print_exc()
    finally:
        world.close(ok)
    print("%s %s" % ("PASS" if ok else "FAIL", args.scenario))
    return 0 if ok else 1


def main():
    return run_main(__doc__, SCENARIOS, World, ["--remote-author"])


if __name__ == "__main__":
    sys.exit(main())
