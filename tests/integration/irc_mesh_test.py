#!/usr/bin/python3
"""End-to-end tests of lattice-irc across a mesh: two real lattice-kernels on loopback joined
with `lattice-ctl peer invite` / `peer join`, a chat store created on the first and replicated
to the second, a real lattice-irc on each kernel, and IRC clients on each gateway (python3-irc
for ordinary clients, raw sockets where a test needs exact bytes and tags).

Usage: irc_mesh_test.py --kernel K --ctl C --irc I SCENARIO
Each scenario starts its own two kernels and gateways; ctest runs one scenario per test.
The clients, gateways and waiting come from irc_gateway_test.py (the single-node tests):
nothing sleeps to wait, every wait polls for the awaited thing with a deadline.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irc_gateway_test as single  # noqa: E402
from irc_gateway_test import (IrcClient, RawClient, batch_ref,  # noqa: E402
                              check, iso_ms, short, tail, wait_until)
from irc_gateway_test import (command_reply, raw_client, raw_join,  # noqa: E402
                              set_modes, wait_mode)

# Replication over loopback is quick, but the machine may be loaded: waits that cross nodes
# get more time than those on one gateway.
MESH_DEADLINE = 60.0


# ---- Nodes --------------------------------------------------------------------------------------


class MeshKernel(single.Kernel):
    """A lattice-kernel with its own data and socket directory (so its own admin.cookie),
    listening for peers on 127.0.0.1. The first start takes an ephemeral port; restarts keep
    it, as a node's configured port would stay the same."""

    def __init__(self, args, root, name):
        os.makedirs(root)
        super().__init__(args, root)
        self.root = root
        self.name = name
        self.listen = "127.0.0.1:0"
        self.node_id = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data, "--socket", self.socket, "--name", self.name,
             "--listen", self.listen, "--log-level", "debug"],
            stdout=log, stderr=log)
        wait_until(lambda: self.ctl_ok("status"), "kernel %s to answer on its socket" % self.name)
        status = self.status()
        self.node_id = status["node"]["id"]
        addresses = status.get("listen_addresses", [])
        check(addresses and addresses[0].startswith("127.0.0.1:"),
              "kernel %s listens on %r" % (self.name, addresses))
        self.listen = addresses[0]

    def status(self):
        return json.loads(self.ctl("--json", "status"))

    def stop_cleanly(self):
        """SIGTERM, as a user stopping the kernel would; whether it exited with 0."""
        self.stop()
        return self.process.returncode == 0

    def running(self):
        return self.process is not None and self.process.poll() is None

    def peers_connected(self):
        return self.status().get("peers_connected", 0)

    def has_store(self, store_id):
        status = self.status()
        if not any(s.get("id") == store_id for s in status.get("stores", [])):
            return False
        return all(b.get("done", False) for b in status.get("bootstraps", [])
                   if b.get("store_id") == store_id)

    def history(self, store, channel):
        out = json.loads(self.ctl("--json", "chat", "history", store, channel, "--limit", "1000"))
        return out["messages"]


class Mesh:
    """Kernels alpha (A) and beta (B) in one mesh, a chat store made on A and replicated to
    B, and a service token for lattice-irc on each."""

    def __init__(self, args):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-irc-mesh-")
        self.a = MeshKernel(args, os.path.join(self.root, "alpha"), "alpha")
        self.b = MeshKernel(args, os.path.join(self.root, "beta"), "beta")
        self.gateways = []
        try:
            self.setup()
        except BaseException:
            self.a.stop()
            self.b.stop()
            raise

    def setup(self):
        self.a.start()
        self.b.start()
        invite = self.a.ctl("peer", "invite").strip()
        check(invite, "peer invite printed no token")
        self.b.ctl("peer", "join", invite, "--name", "beta")
        wait_until(lambda: self.a.peers_connected() >= 1 and self.b.peers_connected() >= 1,
                   "alpha and beta to connect", MESH_DEADLINE)
        created = self.a.ctl("store", "create", "chat1", "--type", "chat")
        self.store = created.split()[0]
        check(re.fullmatch(r"[0-9a-f-]{36}", self.store), "store create printed %r" % created)
        wait_until(lambda: self.b.has_store(self.store), "the chat store to reach beta",
                   MESH_DEADLINE)
        self.tokens = {}
        for kernel in (self.a, self.b):
            out = kernel.ctl("token", "create", "irc", "--store", self.store,
                             "--rights", "read,write,watch")
            self.tokens[kernel.name] = re.search(r"token:\s*(\S+)", out).group(1)

    def gateway(self, kernel, *extra):
        gateway = single.Gateway(self.args, kernel, kernel.root, self.store,
                                 self.tokens[kernel.name], extra)
        self.gateways.append(gateway)
        return gateway

    def pair(self):
        """A gateway on each node, alice on alpha's and bob on beta's, both in #general."""
        ga = self.gateway(self.a)
        gb = self.gateway(self.b)
        alice = IrcClient(ga.port, "alice")
        bob = IrcClient(gb.port, "bob")
        alice.join("#general")
        bob.join("#general")
        return ga, gb, alice, bob

    def close(self, ok):
        single.close_world(self.root, self.gateways, [self.a, self.b], ok)


def mask(nick, user, node_id):
    return "%s!%s@%s.lattice" % (nick, user, short(node_id))


def pubmsgs(client, channel="#general"):
    """(full source, text) of every channel line the client got, in arrival order."""
    return [(str(e.source), e.arguments[0]) for e in client.events
            if e.type == "pubmsg" and e.target.lower() == channel.lower()]


def texts_from(client, nick, channel="#general"):
    return [t for n, t in client.channel_texts(channel) if n == nick]


def names_of(client, channel="#general"):
    """The nicks of the last complete NAMES reply for `channel`."""
    names, current = set(), set()
    for event in client.events:
        if event.type == "namreply" and event.arguments[1].lower() == channel.lower():
            # Without the status prefixes: who is operator differs from gateway to gateway.
            current |= {n.lstrip("@+") for n in event.arguments[2].split()}
        elif event.type == "endofnames" and event.arguments[0].lower() == channel.lower():
            names, current = current, set()
    return names


def ask_names(client, channel="#general"):
    before = len(client.of("endofnames"))
    client.connection.names([channel])
    wait_until(lambda: len(client.of("endofnames")) > before, "%s's NAMES" % client.nick)
    return names_of(client, channel)


# ---- Scenarios ----------------------------------------------------------------------------


def cross_node_talk(mesh):
    """A line written on alpha's gateway reaches beta's client with a hostmask naming alpha,
    after a JOIN of its sender; the same nick on both nodes never confuses a client; the
    topic set on either node is the channel's topic on both."""
    ga, gb, alice, bob = mesh.pair()
    a_id, b_id = mesh.a.node_id, mesh.b.node_id

    alice.say("#general", "hello from alpha")
    wait_until(lambda: ("alice", "hello from alpha") in bob.channel_texts("#general"),
               "bob on beta to get alice's line from alpha", MESH_DEADLINE)
    check(pubmsgs(bob) == [(mask("alice", "alice", a_id), "hello from alpha")],
          "bob got %r" % pubmsgs(bob))
    # Alice is present on beta before her first line: in the NAMES bob got on joining when
    # her presence arrived first, else by one JOIN.
    joins = [i for i, e in enumerate(bob.events)
             if e.type == "join" and e.source.nick == "alice"]
    first_line = next(i for i, e in enumerate(bob.events) if e.type == "pubmsg")
    if "alice" in names_of(bob):
        check(not joins, "alice JOINed beta although NAMES had her")
    else:
        check(len(joins) == 1 and joins[0] < first_line
              and str(bob.events[joins[0]].source) == mask("alice", "alice", a_id),
              "alice's JOIN on beta: %r" % [str(bob.events[i].source) for i in joins])
    check("alice" in ask_names(bob), "NAMES on beta lacks alice: %r" % names_of(bob))

    bob.say("#general", "hello from beta")
    wait_until(lambda: ("bob", "hello from beta") in alice.channel_texts("#general"),
               "alice on alpha to get bob's line from beta", MESH_DEADLINE)
    check(pubmsgs(alice) == [(mask("bob", "bob", b_id), "hello from beta")],
          "alice got %r" % pubmsgs(alice))
    alice.connection.whois(["bob"])
    wait_until(lambda: alice.has("endofwhois"), "WHOIS bob on alpha")
    check(alice.has("whoisserver", lambda e: b_id in e.arguments[2]),
          "WHOIS bob on alpha does not name beta's node: %r"
          % [e.arguments for e in alice.of("whoisserver")])

    # A second alice, on beta: beta's clients see alpha's alice move to alice|<alpha>.
    alice_b = IrcClient(gb.port, "alice")
    alice_x = "alice|" + short(a_id)
    wait_until(lambda: bob.has("nick", lambda e: e.source.nick == "alice" and e.target == alice_x),
               "beta's remote alice to become " + alice_x)
    alice_b.join("#general")
    alice.say("#general", "alice of alpha speaking")
    wait_until(lambda: (alice_x, "alice of alpha speaking") in alice_b.channel_texts("#general"),
               "beta's alice to get alpha's alice as " + alice_x, MESH_DEADLINE)
    wait_until(lambda: (alice_x, "alice of alpha speaking") in bob.channel_texts("#general"),
               "bob to get alpha's alice as " + alice_x, MESH_DEADLINE)
    check((mask(alice_x, "alice", a_id), "alice of alpha speaking") in pubmsgs(alice_b),
          "hostmask of alpha's alice on beta: %r" % pubmsgs(alice_b))
    alice_b.say("#general", "alice of beta speaking")
    alice_y = "alice|" + short(b_id)
    wait_until(lambda: (alice_y, "alice of beta speaking") in alice.channel_texts("#general"),
               "alpha's alice to get beta's alice as " + alice_y, MESH_DEADLINE)
    wait_until(lambda: ("alice", "alice of beta speaking") in bob.channel_texts("#general"),
               "bob to get his local alice under her own nick")
    check((mask(alice_y, "alice", b_id), "alice of beta speaking") in pubmsgs(alice),
          "hostmask of beta's alice on alpha: %r" % pubmsgs(alice))
    # Nobody ever gets a line under a nick that someone else holds on their gateway.
    check(not any(n == "alice" for n, t in alice.channel_texts("#general")),
          "alpha's alice got a line from 'alice': %r" % alice.channel_texts("#general"))
    check(not any(n == "alice" for n, t in alice_b.channel_texts("#general")),
          "beta's alice got a line from 'alice': %r" % alice_b.channel_texts("#general"))
    check(texts_from(bob, alice_x) == ["alice of alpha speaking"]
          and texts_from(bob, "alice") == ["hello from alpha", "alice of beta speaking"],
          "bob's lines by nick: %r" % bob.channel_texts("#general"))
    names_b = ask_names(bob)
    check({"bob", "alice", alice_x} <= names_b, "NAMES on beta: %r" % names_b)
    names_a = ask_names(alice)
    check({"alice", "bob", alice_y} <= names_a, "NAMES on alpha: %r" % names_a)

    # The topic, set on alpha, is beta's topic too; then set on beta, it is alpha's.
    alice.connection.topic("#general", "Shared topic from alpha")
    wait_until(lambda: bob.has("topic", lambda e: e.arguments[0] == "Shared topic from alpha"),
               "bob to see alpha's topic", MESH_DEADLINE)
    change = [e for e in bob.of("topic") if e.arguments[0] == "Shared topic from alpha"]
    check(len(change) == 1 and str(change[0].source) == mask(alice_x, "alice", a_id),
          "the topic change on beta: %r" % [str(e.source) for e in change])
    check("Shared topic from alpha" in mesh.b.ctl("chat", "topic", mesh.store, "general"),
          "beta's store has another topic")
    carol = IrcClient(gb.port, "carol")
    carol.join("#general")
    check([e.arguments for e in carol.of("currenttopic")] ==
          [["#general", "Shared topic from alpha"]], "332 on beta: %r" % carol.of("currenttopic"))
    check(carol.has("topicinfo", lambda e: e.arguments[1] == alice_x),
          "333 on beta: %r" % [e.arguments for e in carol.of("topicinfo")])
    bob.connection.topic("#general", "Topic from beta")
    wait_until(lambda: alice.has("topic", lambda e: e.arguments[0] == "Topic from beta"),
               "alice to see beta's topic", MESH_DEADLINE)
    check(alice.has("topic", lambda e: e.arguments[0] == "Topic from beta"
                    and str(e.source) == mask("bob", "bob", b_id)), "beta's topic source")
    dave = IrcClient(ga.port, "dave")
    dave.join("#general")
    check([e.arguments for e in dave.of("currenttopic")] == [["#general", "Topic from beta"]],
          "332 on alpha: %r" % dave.of("currenttopic"))
    check(dave.has("topicinfo", lambda e: e.arguments[1] == "bob"), "333 on alpha names bob")

    # Every line arrived once.
    for client in (alice, bob, alice_b):
        lines = client.channel_texts("#general")
        check(len(lines) == len(set(lines)), "%s got a line twice: %r" % (client.nick, lines))


# Presence crosses nodes within moments (it is announced, not stored); the bar.
PRESENCE_DEADLINE = 5.0


def remote_presence(mesh):
    """Users of another node are shown as their gateway announces them, within seconds and
    without a word from them: JOIN, NICK, PART and QUIT with their reasons, for silent users
    too, and NAMES for a client joining later. None of it is stored: the channel's history
    holds only what was said. Someone who only writes through another tool (no gateway
    announces them) still leaves after --remote-idle seconds of silence, while announced
    users never do."""
    quick = mesh.gateway(mesh.a, "--remote-idle", "2")
    gb = mesh.gateway(mesh.b)
    b_id = mesh.b.node_id
    alice = IrcClient(quick.port, "alice")
    alice.join("#general")
    bob = IrcClient(gb.port, "bob")
    bob.join("#general")
    wait_until(lambda: alice.has("join", lambda e: e.source.nick == "bob"),
               "bob's JOIN on alpha before any word of his", PRESENCE_DEADLINE)
    joins = [e for e in alice.of("join") if e.source.nick == "bob"]
    check(len(joins) == 1 and str(joins[0].source) == mask("bob", "bob", b_id),
          "bob's JOIN on alpha: %r" % [str(e.source) for e in joins])
    check("bob" in ask_names(alice), "NAMES on alpha lacks bob: %r" % names_of(alice))

    # erin writes from beta's shell: nobody announces her, so she leaves when quiet, and by
    # then bob, silent for longer, is still there.
    mesh.b.ctl("chat", "post", mesh.store, "general", "from the shell", "--sender", "erin")
    wait_until(lambda: ("erin", "from the shell") in alice.channel_texts("#general"),
               "erin's line on alpha", MESH_DEADLINE)
    wait_until(lambda: alice.has("part", lambda e: e.source.nick == "erin"),
               "erin's idle PART on alpha", 15)
    check(not alice.has("part", lambda e: e.source.nick == "bob"), "announced bob was parted")

    bob.connection.nick("bobby")
    wait_until(lambda: alice.has("nick", lambda e: e.source.nick == "bob"
                                 and e.target == "bobby"), "bob's NICK on alpha",
               PRESENCE_DEADLINE)
    bob.connection.part(["#general"], "lunch")
    wait_until(lambda: alice.has("part", lambda e: e.source.nick == "bobby"
                                 and e.arguments == ["lunch"]), "bobby's PART on alpha",
               PRESENCE_DEADLINE)
    check("bobby" not in ask_names(alice), "NAMES after the PART: %r" % names_of(alice))
    bob.join("#general")
    wait_until(lambda: len([e for e in alice.of("join") if e.source.nick == "bobby"]) == 1,
               "bobby's JOIN again", PRESENCE_DEADLINE)

    # A user who never speaks, in a channel alpha's client joins afterwards: in NAMES.
    frank = IrcClient(gb.port, "frank")
    frank.join("#quiet")
    carol = IrcClient(quick.port, "carol")
    carol.join("#quiet")
    wait_until(lambda: "frank" in names_of(carol, "#quiet")
               or carol.has("join", lambda e: e.source.nick == "frank"),
               "frank present in #quiet on alpha", PRESENCE_DEADLINE)
    if "frank" in names_of(carol, "#quiet"):
        check(not carol.has("join", lambda e: e.source.nick == "frank"),
              "a JOIN for a NAMES entry")
    frank.connection.quit("going home")
    wait_until(lambda: carol.has("quit", lambda e: e.source.nick == "frank"
                                 and "going home" in e.arguments[0]), "frank's QUIT on alpha",
               PRESENCE_DEADLINE)

    # A gateway that stops takes its users with it.
    gb.stop()
    wait_until(lambda: alice.has("quit", lambda e: e.source.nick == "bobby"),
               "bobby's QUIT when beta's gateway stops", PRESENCE_DEADLINE)

    # Presence is not history.
    for kernel in (mesh.a, mesh.b):
        said = [(m["sender"], m["text"]) for m in kernel.history(mesh.store, "general")]
        check(said == [("erin", "from the shell")], "history on %s: %r" % (kernel.name, said))
        check(kernel.history(mesh.store, "quiet") == [], "#quiet has history")


def monitor_across_nodes(mesh):
    """MONITOR on one node follows a nick on the other: 731 while nobody there holds it, 730
    (nick!user@host of the other node) within seconds of a client of its gateway taking it,
    sharing no channel, and 731 again as it quits or changes nick."""
    ga = mesh.gateway(mesh.a)
    gb = mesh.gateway(mesh.b)
    alice = IrcClient(ga.port, "alice")
    alice.connection.send_raw("MONITOR + gina")
    wait_until(lambda: alice.has("731", lambda e: e.arguments[0].lower() == "gina"),
               "731 for gina before she connects", MESH_DEADLINE)

    def online(nick):
        return [e for e in alice.of("730") if e.arguments[0].split("!")[0] == nick]

    def offline(nick):
        return [e for e in alice.of("731") if e.arguments[0] == nick]

    gina = IrcClient(gb.port, "gina")
    wait_until(lambda: online("gina"), "730 for gina on alpha", PRESENCE_DEADLINE)
    check(online("gina")[0].arguments[0] == mask("gina", "gina", mesh.b.node_id),
          "730 names gina of beta: %r" % online("gina")[0].arguments)
    gina.connection.nick("gina_away")
    wait_until(lambda: len(offline("gina")) == 2, "731 as gina renames", PRESENCE_DEADLINE)
    gina.connection.nick("gina")
    wait_until(lambda: len(online("gina")) == 2, "730 as gina takes her nick again",
               PRESENCE_DEADLINE)
    gina.connection.quit("bye")
    wait_until(lambda: len(offline("gina")) == 3, "731 as gina quits", PRESENCE_DEADLINE)


def history_across_nodes(mesh):
    """A client that joins later, on either node, gets the channel's history from both
    nodes in one batch, each line with its sender's node in the hostmask and its original
    time (server-time), in the same order on both nodes."""
    ga, gb, alice, bob = mesh.pair()
    a_id, b_id = mesh.a.node_id, mesh.b.node_id
    sent = []
    for i in range(4):
        alice.say("#general", "alpha line %d" % i)
        sent.append("alpha line %d" % i)
        wait_until(lambda: ("alice", "alpha line %d" % i) in bob.channel_texts("#general"),
                   "bob to get alpha line %d" % i, MESH_DEADLINE)
        bob.say("#general", "beta line %d" % i)
        sent.append("beta line %d" % i)
        wait_until(lambda: ("bob", "beta line %d" % i) in alice.channel_texts("#general"),
                   "alice to get beta line %d" % i, MESH_DEADLINE)
    stored_b = mesh.b.history(mesh.store, "general")
    stored_a = mesh.a.history(mesh.store, "general")
    check([m["hash"] for m in stored_a] == [m["hash"] for m in stored_b],
          "the two nodes order the history differently")
    check([m["text"] for m in stored_b] == sent, "stored history %r" % stored_b)

    played = {}
    for name, gateway in (("beta", gb), ("alpha", ga)):
        carol = RawClient(gateway.port)
        nick = "carol" + name
        carol.register(nick, caps=["server-time", "batch", "message-tags"])
        carol.line("JOIN #general")
        wait_until(lambda: batch_ref(carol.lines) is not None and any(
            l.endswith(" BATCH -" + batch_ref(carol.lines)) for l in carol.lines),
            "the end of the history batch on " + name)
        ref = batch_ref(carol.lines)
        lines = [l for l in carol.lines if ("batch=" + ref) in l and " PRIVMSG " in l]
        check(len(lines) == len(sent), "%s played %d lines: %r" % (name, len(lines), lines))
        for line, message in zip(lines, stored_b):
            tags = dict(t.split("=", 1) for t in line[1:line.index(" ")].split(";"))
            check(tags["time"] == iso_ms(single.shown_ms(message)),
                  "%s: time %s for a line shown at %s" % (name, tags["time"],
                                                          single.shown_ms(message)))
            check(tags["msgid"] == single.gateway_msgid(message), "msgid")
            source = line.split(" ")[1][1:]
            if message["text"].startswith("beta"):
                wanted = "bob!bob@%s.lattice" % short(b_id)
            else:
                wanted = "alice!alice@%s.lattice" % short(a_id)
            check(source == wanted, "%s: %s shown from %s" % (name, message["text"], source))
            check(line.endswith("PRIVMSG #general :" + message["text"]), line)
        played[name] = [l.rsplit(" :", 1)[1] for l in lines]
        alice.say("#general", "live after " + name)
        carol.wait_for(lambda l: l.endswith(":live after " + name),
                       "a live line after the history on " + name, MESH_DEADLINE)
        sent.append("live after " + name)
        stored_b = mesh.b.history(mesh.store, "general")
        check(sum(1 for l in carol.lines if " PRIVMSG " in l and l.endswith(":" + sent[0])) == 1,
              "a history line was played twice on " + name)
    check(played["alpha"][:8] == played["beta"][:8], "played orders differ: %r" % played)


def offline_catch_up(mesh):
    """Stop beta's kernel while its gateway and client stay up, talk on alpha, start beta's
    kernel again: bob on beta receives every line he missed exactly once, in order, and what
    he said meanwhile reaches alpha. The same when beta's kernel is killed (-9) while lines
    stream in. Then the whole of beta goes down (kernel and gateway), alpha talks, beta comes
    back: bob, reconnecting, gets the missed lines in the history."""
    ga, gb, alice, bob = mesh.pair()
    alice.say("#general", "before")
    wait_until(lambda: ("alice", "before") in bob.channel_texts("#general"), "the first line",
               MESH_DEADLINE)

    check(mesh.b.stop_cleanly(), "beta's kernel did not exit cleanly on SIGTERM")
    missed = ["missed %d" % i for i in range(12)]
    for text in missed:
        alice.say("#general", text)
    said_offline = ["bob offline %d" % i for i in range(3)]
    for text in said_offline:
        bob.say("#general", text)
    wait_until(lambda: [m["text"] for m in mesh.a.history(mesh.store, "general")]
               == ["before"] + missed, "alpha to store alice's lines")
    wait_until(lambda: any(w in tail(gb.log_path, 200) for w in ("interrupted", "retrying")),
               "beta's gateway to notice its kernel is gone")
    check(gb.alive() and not bob.disconnected, "beta's gateway or bob went away with the kernel")
    check(texts_from(bob, "alice") == ["before"], "bob got lines with beta's kernel down")

    mesh.b.start()
    wait_until(lambda: len(texts_from(bob, "alice")) >= 1 + len(missed),
               "bob to receive what he missed", MESH_DEADLINE)
    wait_until(lambda: len(texts_from(alice, "bob")) >= len(said_offline),
               "alice to receive what bob said offline", MESH_DEADLINE)
    alice.say("#general", "after")
    wait_until(lambda: ("alice", "after") in bob.channel_texts("#general"), "a live line",
               MESH_DEADLINE)
    check(texts_from(bob, "alice") == ["before"] + missed + ["after"],
          "bob got %r" % texts_from(bob, "alice"))
    check(texts_from(alice, "bob") == said_offline, "alice got %r" % texts_from(alice, "bob"))
    check(not bob.disconnected and not alice.disconnected, "a client was disconnected")

    # beta's kernel crashes (kill -9) while alpha's lines stream in, and is started again.
    stream = ["stream %d" % i for i in range(30)]
    for text in stream:
        alice.say("#general", text)
    bob.say("#general", "bob before the crash")
    so_far = len(texts_from(bob, "alice"))
    wait_until(lambda: len(texts_from(bob, "alice")) >= so_far + 5,
               "bob to get part of the stream", MESH_DEADLINE)
    mesh.b.kill9()
    mesh.b.start()
    wait_until(lambda: texts_from(bob, "alice")[-1] == stream[-1],
               "bob to get the whole stream after beta's crash", MESH_DEADLINE)
    wait_until(lambda: "bob before the crash" in texts_from(alice, "bob"),
               "alice to get bob's line from before the crash", MESH_DEADLINE)
    check(texts_from(bob, "alice") == ["before"] + missed + ["after"] + stream,
          "bob got %r" % texts_from(bob, "alice"))
    check(texts_from(alice, "bob") == said_offline + ["bob before the crash"],
          "alice got %r" % texts_from(alice, "bob"))
    check(not bob.disconnected and not alice.disconnected, "a client was disconnected")

    # The whole node goes down: its kernel and its gateway, and bob with them.
    bob.close()
    gb.stop()
    check(mesh.b.stop_cleanly(), "beta's kernel did not exit cleanly on SIGTERM")
    while_away = ["while beta was off %d" % i for i in range(5)]
    for text in while_away:
        alice.say("#general", text)
    wait_until(lambda: [m["text"] for m in mesh.a.history(mesh.store, "general")][-5:]
               == while_away, "alpha to store the lines")
    mesh.b.start()
    wait_until(lambda: [m["text"] for m in mesh.b.history(mesh.store, "general")][-5:]
               == while_away, "beta to catch up with alpha", MESH_DEADLINE)
    gb2 = mesh.gateway(mesh.b, "--history", "100")
    bob2 = RawClient(gb2.port)
    bob2.register("bob", caps=["server-time", "batch"])
    bob2.line("JOIN #general")
    bob2.wait_for(lambda l: " BATCH -" in l, "bob's history batch")
    played = [l.rsplit(" :", 1)[1] for l in bob2.lines if " PRIVMSG #general " in l]
    expected = (["before"] + missed + said_offline + ["after"] + stream +
                ["bob before the crash"] + while_away)
    check(sorted(played) == sorted(expected) and played[-5:] == while_away,
          "bob's history after beta came back: %r" % played)


def modes_across_nodes(mesh):
    """Operator status is each gateway's (the first local member on each node is operator
    there); the channel's settings are stored with it and so hold on every node: +t and +k
    set on alpha are shown on beta from alpha's user and enforced by beta's gateway, and a
    gateway started later on beta reads them from its kernel."""
    ga = mesh.gateway(mesh.a)
    gb = mesh.gateway(mesh.b)
    alice = raw_client(ga.port, "alice")
    bob = raw_client(gb.port, "bob")
    check(raw_join(alice, "#general") == "366", "alice's JOIN on alpha")
    check(raw_join(bob, "#general") == "366", "bob's JOIN on beta")
    mark = len(bob.lines)
    source, params = set_modes(alice, "#general", "+tk sesame", single.DEADLINE)
    check(params == ["#general", "+tk", "sesame"], "MODE on alpha: %r" % params)
    source, _, params = wait_mode(bob, mark, "#general", "bob on beta to see alpha's +tk",
                                  MESH_DEADLINE)
    check(params == ["#general", "+tk", "sesame"], "MODE on beta: %r" % params)
    check(source == "alice!alice@%s.lattice" % short(mesh.a.node_id),
          "MODE on beta from %s" % source)
    # Beta's gateway enforces them: the key for a JOIN, the topic lock for its non-operators.
    carol = raw_client(gb.port, "carol")
    check(raw_join(carol, "#general") == "475", "JOIN on beta without the key")
    check(raw_join(carol, "#general", "sesame") == "366", "JOIN on beta with the key")
    command_reply(carol, "TOPIC #general :from carol", "482", "482 for carol's TOPIC on beta")
    _, _, params = command_reply(bob, "MODE #general", "324", "324 on beta")
    check(params[2:] == ["+kt", "sesame"], "324 on beta: %r" % params)
    # A gateway that starts later reads them from its own kernel.
    gb2 = mesh.gateway(mesh.b)
    dave = raw_client(gb2.port, "dave")
    check(raw_join(dave, "#general") == "475", "JOIN through a new gateway on beta")
    # Switched off on beta, off on alpha.
    mark = len(alice.lines)
    set_modes(bob, "#general", "-k *", single.DEADLINE)
    _, _, params = wait_mode(alice, mark, "#general", "alice to see beta's -k", MESH_DEADLINE)
    check(params == ["#general", "-k", "*"], "-k on alpha: %r" % params)
    erin = raw_client(ga.port, "erin")
    check(raw_join(erin, "#general") == "366", "JOIN on alpha once the key is gone")


SCENARIOS = {f.__name__: f for f in [
    cross_node_talk, remote_presence, monitor_across_nodes, history_across_nodes,
    offline_catch_up, modes_across_nodes]}


def main():
    return single.run_main(__doc__, SCENARIOS, Mesh)


if __name__ == "__main__":
    sys.exit(main())
