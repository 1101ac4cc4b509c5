#!/usr/bin/python3
"""End-to-end tests of lattice-irc's IRCv3 support with raw sockets: client-only tags on
channel messages (kept in the store, shown to message-tags clients only, carried to another
node), echo-message with the stored msgid and time, labeled-response, and a bouncer-style
client that fetches history on demand with draft/chathistory.

Usage: irc_ircv3_test.py --kernel K --ctl C --irc I SCENARIO
Single-node scenarios use the world of irc_gateway_test.py, the two-node one the mesh of
irc_mesh_test.py. Nothing sleeps to wait: every wait polls with a deadline.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irc_gateway_test as single  # noqa: E402
import irc_mesh_test as mesh_test  # noqa: E402
from irc_gateway_test import (RawClient, check, gateway_msgid, iso_ms, shown_ms,  # noqa: E402
                              wait_until)

CHATHISTORY_CAPS = ["draft/chathistory", "batch", "server-time", "message-tags"]


def tags_of(line):
    """The tags of a raw line as a dict of escaped values ({} without tags)."""
    if not line.startswith("@"):
        return {}
    tags = {}
    for item in line[1:line.index(" ")].split(";"):
        key, _, value = item.partition("=")
        tags[key] = value
    return tags


def untagged(line):
    return line.split(" ", 1)[1] if line.startswith("@") else line


def lines_after(client, start):
    return client.lines[start:]


def batch_of(client, start, kind):
    """The lines of the first complete BATCH of `kind` after index `start`: (start line,
    inner lines, end line), or None while it is incomplete."""
    lines = client.lines[start:]
    for i, line in enumerate(lines):
        parts = untagged(line).split()
        if len(parts) >= 4 and parts[1] == "BATCH" and parts[2].startswith("+") \
                and parts[3] == kind:
            ref = parts[2][1:]
            inner = [l for l in lines[i + 1:] if tags_of(l).get("batch") == ref]
            for end in lines[i + 1:]:
                if untagged(end).split()[1:3] == ["BATCH", "-" + ref]:
                    return line, inner, end
            return None
    return None


def wait_batch(client, start, kind, what):
    wait_until(lambda: batch_of(client, start, kind) is not None, what)
    return batch_of(client, start, kind)


# ---- Scenarios ----------------------------------------------------------------------------------


def channel_tags(world):
    """A channel message with client-only tags reaches another client with message-tags with
    its tags and msgid, one without them bare; the tags and the msgid are stored (a later
    CHATHISTORY shows them); a TAGMSG reaches local members with message-tags; over-long tag
    data gets 417; a reply naming the msgid is stored as a reply to that message."""
    gw = world.gateway()
    alice = RawClient(gw.port)
    alice.register("alice", caps=["message-tags"])
    bob = RawClient(gw.port)
    bob.register("bob", caps=["message-tags"])
    carol = RawClient(gw.port)
    carol.register("carol")
    for client, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        client.line("JOIN #tags")
        client.wait_for(lambda l, n=nick: " 366 %s #tags " % n in l, nick + " in #tags")
    start_bob, start_carol = len(bob.lines), len(carol.lines)
    alice.line("@+example.com/key=a\\sb\\:c;+draft/channel-context=#tags PRIVMSG #tags :tagged")
    got = bob.wait_for(lambda l: l.endswith("PRIVMSG #tags :tagged"), "the tagged line at bob")
    tags = tags_of(got)
    check(tags.get("+example.com/key") == "a\\sb\\:c", "bob's tags %r" % tags)
    check(tags.get("+draft/channel-context") == "#tags", "bob's tags %r" % tags)
    check(tags.get("msgid"), "no msgid in %r" % got)
    bare = carol.wait_for(lambda l: l.endswith("PRIVMSG #tags :tagged"), "the line at carol")
    check(not bare.startswith("@"), "carol (no message-tags) got tags: %r" % bare)
    wait_until(lambda: len(world.history("tags")) == 1, "the tagged line in the store")
    stored = world.history("tags")
    check(gateway_msgid(stored[-1]) == tags["msgid"], "msgid is not the one stored")

    # Kept in the store: a chathistory client reads them back.
    dave = RawClient(gw.port)
    dave.register("dave", caps=CHATHISTORY_CAPS)
    start = len(dave.lines)
    dave.line("CHATHISTORY LATEST #tags * 10")
    _, inner, _ = wait_batch(dave, start, "chathistory", "dave's history batch")
    check(len(inner) == 1 and tags_of(inner[0]).get("+example.com/key") == "a\\sb\\:c",
          "history lines %r" % inner)

    # TAGMSG: local members with message-tags, not stored.
    alice.line("@+typing=active TAGMSG #tags")
    typing = bob.wait_for(lambda l: "TAGMSG #tags" in l, "the TAGMSG at bob")
    check(tags_of(typing).get("+typing") == "active", typing)
    alice.line("PRIVMSG #tags :after typing")
    carol.wait_for(lambda l: l.endswith(":after typing"), "the line after the TAGMSG")
    check(not any("TAGMSG" in l for l in lines_after(carol, start_carol)),
          "carol (no message-tags) got a TAGMSG")
    check(len(world.history("tags")) == 2, "the TAGMSG was stored")

    # More than 4094 bytes of tag data: 417, and nothing is sent.
    alice.line("@+big=%s PRIVMSG #tags :too big" % ("x" * 4095))
    alice.wait_for(lambda l: " 417 alice " in l, "417 for over-long tags")
    alice.line("PRIVMSG #tags :fine")
    bob.wait_for(lambda l: l.endswith(":fine"), "the line after the 417")
    check(not any(l.endswith(":too big") for l in lines_after(bob, start_bob)),
          "the over-long line was delivered")

    # A reply naming the first line's msgid: the kernel finds the post by it, stores a reply
    # to it (citing its hash), and every client is shown that msgid.
    bob.line("@+draft/reply=%s PRIVMSG #tags :re" % tags["msgid"])
    got = alice.wait_for(lambda l: l.endswith("PRIVMSG #tags :re"), "the reply at alice")
    check(tags_of(got).get("+draft/reply") == tags["msgid"], "the reply at alice: %r" % got)
    wait_until(lambda: len(world.history("tags")) == 4, "the reply in the store")
    reply = world.history("tags")[-1]
    check(reply["kind"] == "reply" and reply["ref"] == stored[0]["hash"]
          and reply.get("ref_msgid") == tags["msgid"], "the stored reply %r" % reply)


def echo_and_labels(world):
    """echo-message gives a client its own line with the stored msgid and time;
    labeled-response: a labelled PING gets a labelled PONG, a labelled JOIN its replies in a
    labeled-response batch, a labelled command without reply an ACK, a labelled PRIVMSG its
    labelled echo."""
    gw = world.gateway()
    alice = RawClient(gw.port)
    alice.register("alice", caps=["echo-message", "server-time", "message-tags", "batch",
                                  "labeled-response"])
    start = len(alice.lines)
    alice.line("@label=p1 PING :hello")
    pong = alice.wait_for(lambda l: " PONG " in l, "the PONG")
    check(tags_of(pong).get("label") == "p1" and pong.endswith(" :hello"), pong)

    alice.line("@label=j1 JOIN #labels")
    opened, inner, _ = wait_batch(alice, start, "labeled-response", "the labelled JOIN batch")
    check(tags_of(opened).get("label") == "j1", opened)
    commands = [untagged(l).split()[1] for l in inner]
    check(commands[0] == "JOIN" and "353" in commands and commands[-1] == "366",
          "labelled JOIN replies %r" % inner)

    start = len(alice.lines)
    alice.line("@label=a1 PONG :nothing")
    ack = alice.wait_for(lambda l: untagged(l).split()[1:2] == ["ACK"], "the ACK")
    check(tags_of(ack).get("label") == "a1", ack)

    alice.line("@label=m1 PRIVMSG #labels :echo me")
    echo = alice.wait_for(lambda l: l.endswith("PRIVMSG #labels :echo me"), "the echo")
    tags = tags_of(echo)
    check(tags.get("label") == "m1", "echo tags %r" % tags)
    wait_until(lambda: len(world.history("labels")) == 1, "the message in the store")
    stored = world.history("labels")[0]
    check(tags.get("msgid") == gateway_msgid(stored), "echo msgid %r" % tags)
    check(tags.get("time") == iso_ms(shown_ms(stored)), "echo time %r" % tags)


def bouncer_chathistory(world):
    """A bouncer-style client (draft/chathistory, batch, server-time, message-tags) gets no
    history on JOIN and fetches it with CHATHISTORY: LATEST returns the newest messages in a
    chathistory batch, oldest first with msgid and time; BEFORE msgid= pages back; AFTER and
    timestamps work; TARGETS names the channel; errors are FAIL replies."""
    gw = world.gateway()
    alice = RawClient(gw.port)
    alice.register("alice")
    alice.line("JOIN #bnc")
    alice.wait_for(lambda l: " 366 alice #bnc " in l, "alice in #bnc")
    for i in range(15):
        alice.line("PRIVMSG #bnc :line %d" % i)
    wait_until(lambda: len(world.history("bnc")) == 15, "15 messages in the store")
    stored = world.history("bnc")

    bnc = RawClient(gw.port)
    bnc.register("bnc", caps=CHATHISTORY_CAPS)
    bnc.line("JOIN #bnc")
    bnc.wait_for(lambda l: " 366 bnc #bnc " in l, "bnc in #bnc")
    bnc.line("PING :joined")
    bnc.wait_for(lambda l: l.endswith(" :joined"), "the PONG after the JOIN")
    check(not any(" PRIVMSG " in l or " BATCH " in l for l in bnc.lines),
          "history was played on JOIN: %r" % bnc.lines)

    start = len(bnc.lines)
    bnc.line("CHATHISTORY LATEST #bnc * 10")
    opened, inner, _ = wait_batch(bnc, start, "chathistory", "the LATEST batch")
    check(untagged(opened).split()[4] == "#bnc", opened)
    check([untagged(l).split(" :", 1)[1] for l in inner] == [m["text"] for m in stored[5:]],
          "LATEST lines %r" % inner)
    for line, message in zip(inner, stored[5:]):
        tags = tags_of(line)
        check(tags.get("msgid") == gateway_msgid(message), "msgid of %r" % line)
        check(tags.get("time") == iso_ms(shown_ms(message)), "time of %r" % line)

    start = len(bnc.lines)
    bnc.line("CHATHISTORY BEFORE #bnc msgid=%s 10" % gateway_msgid(stored[5]))
    _, inner, _ = wait_batch(bnc, start, "chathistory", "the BEFORE batch")
    check([untagged(l).split(" :", 1)[1] for l in inner] == [m["text"] for m in stored[:5]],
          "BEFORE lines %r" % inner)

    start = len(bnc.lines)
    bnc.line("CHATHISTORY AFTER #bnc msgid=%s 3" % stored[11]["hash"])
    _, inner, _ = wait_batch(bnc, start, "chathistory", "the AFTER batch")
    check([untagged(l).split(" :", 1)[1] for l in inner] == ["line 12", "line 13", "line 14"],
          "AFTER lines %r" % inner)
    # Lines sent in a burst may share a millisecond: a time just before the first one.
    start = len(bnc.lines)
    bnc.line("CHATHISTORY AFTER #bnc timestamp=%s 2" % iso_ms(stored[0]["hlc"]["wall_ms"] - 1))
    _, inner, _ = wait_batch(bnc, start, "chathistory", "the AFTER timestamp batch")
    check([untagged(l).split(" :", 1)[1] for l in inner] == ["line 0", "line 1"],
          "AFTER timestamp lines %r" % inner)

    # TARGETS: the channels the client is in with messages in the window, and the newest.
    start = len(bnc.lines)
    bnc.line("CHATHISTORY TARGETS timestamp=%s timestamp=2100-01-01T00:00:00.000Z 10"
             % iso_ms(stored[0]["hlc"]["wall_ms"]))
    _, inner, _ = wait_batch(bnc, start, "draft/chathistory-targets", "the TARGETS batch")
    check([untagged(l).split()[1:] for l in inner] ==
          [["CHATHISTORY", "TARGETS", "#bnc", iso_ms(stored[-1]["hlc"]["wall_ms"])]],
          "TARGETS lines %r" % inner)

    bnc.line("CHATHISTORY BEFORE #bnc msgid=%s 10" % ("0" * 64))
    bnc.wait_for(lambda l: "FAIL CHATHISTORY MESSAGE_ERROR BEFORE #bnc " in l,
                 "FAIL for an unknown msgid")
    bnc.line("CHATHISTORY SIDEWAYS #bnc * 10")
    bnc.wait_for(lambda l: "FAIL CHATHISTORY INVALID_PARAMS SIDEWAYS " in l,
                 "FAIL for an unknown subcommand")
    bnc.line("CHATHISTORY LATEST #no,channel * 10")
    bnc.wait_for(lambda l: "FAIL CHATHISTORY INVALID_TARGET LATEST " in l,
                 "FAIL for an invalid target")

    # Live messages still arrive.
    alice.line("PRIVMSG #bnc :live")
    live = bnc.wait_for(lambda l: l.endswith("PRIVMSG #bnc :live"), "a live line")
    check("batch" not in tags_of(live), live)


def tags_across_nodes(mesh):
    """Client-only tags of a channel message written on alpha reach a message-tags client on
    beta: they are kept with the message and replicated."""
    ga = mesh.gateway(mesh.a)
    gb = mesh.gateway(mesh.b)
    alice = RawClient(ga.port)
    alice.register("alice", caps=["message-tags"])
    bob = RawClient(gb.port)
    bob.register("bob", caps=["message-tags"])
    for client, nick in ((alice, "alice"), (bob, "bob")):
        client.line("JOIN #general")
        client.wait_for(lambda l, n=nick: " 366 %s #general " % n in l, nick + " in #general")
    alice.line("@+example.com/mood=calm\\sand\\sbright PRIVMSG #general :across")
    got = bob.wait_for(lambda l: l.endswith("PRIVMSG #general :across"), "the line on beta",
                       mesh_test.MESH_DEADLINE)
    tags = tags_of(got)
    check(tags.get("+example.com/mood") == "calm\\sand\\sbright", "beta's tags %r" % tags)


SINGLE = [channel_tags, echo_and_labels, bouncer_chathistory]
MESH = [tags_across_nodes]
SCENARIOS = {f.__name__: f for f in SINGLE + MESH}


def make_world(args):
    if args.scenario in {f.__name__ for f in MESH}:
        return mesh_test.Mesh(args)
    return single.World(args)


def main():
    return single.run_main(__doc__, SCENARIOS, make_world)


if __name__ == "__main__":
    sys.exit(main())
