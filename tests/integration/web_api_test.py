#!/usr/bin/python3
"""End-to-end tests of lattice-web's REST API: a real lattice-kernel in a temporary directory,
a real lattice-web on a free loopback port, curl as the client, and every response checked
against the OpenAPI document lattice-web serves.

Usage: web_api_test.py --kernel K --ctl C --web W SCENARIO
Each scenario starts its own kernel and lattice-web; ctest runs one scenario per test.
"""

import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_support import (DEADLINE, Kernel, TestFailure, Web, check, expect, expect_problem,  # noqa: E402
                         run_main, wait_until)


def quote(key):
    return urllib.parse.quote(key, safe="")


class World:
    def __init__(self, args, web_args=()):
        self.args = args
        self.root = tempfile.mkdtemp(prefix="lattice-web-test-")
        # A peer listener on loopback, so the node can invite.
        self.kernel = Kernel(args, self.root, listen="127.0.0.1:0")
        self.web = Web(args, self.kernel, self.root, web_args)
        self.kernel.start()
        self.web.start()
        self.admin = self.kernel.admin_cookie()
        expect(self.web.request("POST", "/api/v1/stores", {"name": "notes", "type": "kv"},
                                token=self.admin), 201, "creating a store")
        self.token = self.kernel.token("app", "--store", "notes", "--rights", "read,write,watch")

    def close(self):
        try:
            self.web.stop()
        finally:
            self.kernel.stop()


# ---- Keys ---------------------------------------------------------------------------------


def keys_round_trip(world):
    """Binary-safe values both ways, JSON on request, ETag and If-Match compare-and-set,
    If-None-Match: *, delete, keys holding '/' and spaces."""
    web, token = world.web, world.token
    key = "dir/a key é"
    path = "/api/v1/stores/notes/keys/" + quote(key)
    value = bytes(range(256)) * 10
    written = expect(web.request("PUT", path, value,
                                 {"Content-Type": "application/octet-stream"}, token=token),
                     200, "PUT bytes").json()
    check(written["cursor"] >= 1 and len(written["hash"]) == 64, "write result %r" % written)
    got = expect(web.request("GET", path, token=token), 200, "GET bytes")
    check(got.body == value, "the value read back differs")
    check(got.headers.get("content-type") == "application/octet-stream", "GET content type")
    etag = got.headers.get("etag")
    check(etag == '"%s"' % written["hash"], "the ETag %r does not name the head %s"
          % (etag, written["hash"]))

    as_json = expect(web.request("GET", path, headers={"Accept": "application/json"},
                                 token=token), 200, "GET as JSON").json()
    check(as_json["key"] == key and "value" not in as_json, "JSON of a binary value: %r"
          % {k: as_json[k] for k in as_json if k != "value_base64"})
    import base64
    check(base64.b64decode(as_json["value_base64"]) == value, "value_base64 differs")

    # Compare-and-set: a stale ETag loses, the current one wins.
    second = expect(web.request("PUT", path, {"value": "second"}, {"If-Match": etag},
                                token=token), 200, "PUT with the current ETag").json()
    expect_problem(web.request("PUT", path, {"value": "third"}, {"If-Match": etag}, token=token),
                   409, "PUT with a stale ETag", "changed")
    got = expect(web.request("GET", path, token=token), 200, "GET after CAS")
    check(got.body == b"second", "a failed If-Match changed the value: %r" % got.body)
    check(got.headers.get("etag") == '"%s"' % second["hash"], "the ETag did not move")
    expect_problem(web.request("PUT", path, "x", {"If-None-Match": "*"}, token=token), 409,
                   "If-None-Match: * on an existing key")
    fresh = "/api/v1/stores/notes/keys/" + quote("fresh")
    expect(web.request("PUT", fresh, "new", {"If-None-Match": "*"}, token=token), 200,
           "If-None-Match: * on a new key")
    expect_problem(web.request("DELETE", path, headers={"If-Match": etag}, token=token), 409,
                   "DELETE with a stale ETag")
    expect(web.request("DELETE", path, headers={"If-Match": got.headers["etag"]}, token=token),
           200, "DELETE with the current ETag")
    expect_problem(web.request("GET", path, token=token), 404, "GET of a deleted key")
    inspected = expect(web.request("GET", path + "?inspect", token=token), 200, "inspect").json()
    check(inspected["heads"] and inspected["heads"][0]["deleted"],
          "inspect of a deleted key shows no deletion head: %r" % inspected)


def scan_pages(world):
    """A batch of keys read back by prefix in pages whose cursors cover each key once."""
    web, token = world.web, world.token
    ops = [{"key": "user/%03d" % i, "value": "v%d" % i} for i in range(25)]
    ops += [{"key": "other/%d" % i, "value_base64": "AAE="} for i in range(3)]
    batch = expect(web.request("POST", "/api/v1/stores/notes/batch", {"ops": ops}, token=token),
                   200, "batch").json()
    check(batch["cursor"] >= 1, "batch result %r" % batch)
    seen, cursor, pages = [], None, 0
    while True:
        query = "?prefix=user/&limit=10" + ("&cursor=" + cursor if cursor else "")
        page = expect(web.request("GET", "/api/v1/stores/notes/keys" + query, token=token), 200,
                      "scan page").json()
        pages += 1
        seen += [e["key"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        check(pages < 10, "the scan does not end")
    check(seen == ["user/%03d" % i for i in range(25)], "the pages hold %r" % seen)
    check(pages == 3, "25 keys in pages of 10 took %d pages" % pages)
    ranged = expect(web.request("GET", "/api/v1/stores/notes/keys?start=user/010&end=user/013",
                                token=token), 200, "range scan").json()
    check([e["key"] for e in ranged["entries"]] == ["user/010", "user/011", "user/012"],
          "range scan: %r" % ranged)
    deleted = expect(web.request("POST", "/api/v1/stores/notes/batch",
                                 {"ops": [{"key": "user/000", "delete": True}]}, token=token),
                     200, "batch delete")
    check(deleted.json()["cursor"] > batch["cursor"], "the delete did not advance the cursor")
    first = expect(web.request("GET", "/api/v1/stores/notes/keys?prefix=user/&limit=1",
                               token=token), 200, "scan after delete").json()
    check(first["entries"][0]["key"] == "user/001", "a deleted key is still listed")


# ---- Errors -------------------------------------------------------------------------------


def bad_input(world):
    """Every documented error, with the right status and a problem document saying why."""
    web, token = world.web, world.token
    key = "/api/v1/stores/notes/keys/k"
    problem = expect_problem(web.request("GET", key), 401, "no token")
    check("bearer" in web.request("GET", key).headers.get("www-authenticate", "").lower(),
          "401 without WWW-Authenticate: Bearer")
    expect_problem(web.request("GET", key, token="not-a-token"), 401, "a wrong token")
    expect_problem(web.request("GET", key, headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401,
                   "a non-bearer Authorization")
    expect(web.request("POST", "/api/v1/stores", {"name": "private", "type": "kv"},
                       token=world.admin), 201, "a second store")
    expect_problem(web.request("GET", "/api/v1/stores/private/keys/k", token=token), 403,
                   "a token used outside its stores")
    expect_problem(web.request("GET", "/api/v1/tokens", token=token), 403,
                   "a service token on an admin route")
    limited = world.kernel.token("limited", "--store", "notes", "--prefix", "pub/",
                                 "--rights", "read,write")
    expect(web.request("PUT", "/api/v1/stores/notes/keys/pub%2Fa", "ok", token=limited), 200,
           "a write inside the token's prefix")
    expect_problem(web.request("PUT", "/api/v1/stores/notes/keys/secret", "no", token=limited),
                   403, "a write outside the token's prefix")
    expect_problem(web.request("PUT", key, b"x" * (1024 * 1024 + 1), token=token), 413,
                   "a value over the value limit", "values are at most")
    # A body over the server's limit is refused from its Content-Length, before it is sent.
    head = web.raw(("PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Content-Length: %d\r\n\r\n" % (key, token, 9 * 1024 * 1024)).encode())
    check(head.startswith(b"HTTP/1.1 413"), "a body over the server's limit: %r" % head[:200])
    problem = expect_problem(web.request("POST", "/api/v1/stores/notes/batch", "{\"ops\": [",
                                         {"Content-Type": "application/json"}, token=token),
                             400, "malformed JSON")
    check("not valid json" in problem["detail"].lower(), "malformed JSON: %r" % problem)
    expect_problem(web.request("POST", "/api/v1/stores/notes/batch",
                               {"ops": [{"key": "a", "value": "x", "delete": True}]},
                               token=token), 400, "an op with a value and delete", "ops[0]")
    expect_problem(web.request("POST", "/api/v1/stores/notes/batch", {"ops": "no"},
                               token=token), 400, "ops not a list")
    expect_problem(web.request("PUT", key, {"valeur": "x"}, token=token), 400,
                   "an unknown JSON member", "valeur")
    expect_problem(web.request("GET", "/api/v1/stores/nosuch/keys/k", token=world.admin), 404,
                   "a store that does not exist")
    expect_problem(web.request("GET", "/api/v1/nothing/here", token=token), 404, "unknown path")
    response = expect_problem(web.request("PATCH", key, "x", token=token), 405, "wrong method")
    check("GET" in web.request("PATCH", key, "x", token=token).headers.get("allow", ""),
          "405 without Allow")
    expect_problem(web.request("GET", "/api/v1/stores/notes/keys/%zz", token=token), 400,
                   "a malformed percent-escape")
    expect_problem(web.request("GET", "/api/v1/stores/notes/keys?limit=0", token=token), 400,
                   "a scan limit of 0")
    expect_problem(web.request("GET", "/api/v1/stores/notes/keys?cursor=xyz", token=token), 400,
                   "a forged scan cursor")
    expect_problem(web.request("GET", "/api/v1/stores/notes/events", token=token,
                               headers={"Last-Event-ID": "soon"}), 400, "a bad Last-Event-ID")
    expect_problem(web.request("PUT", key, "x", {"If-Match": "W/\"abc\""}, token=token), 400,
                   "a malformed If-Match")
    revoked = world.kernel.token("short", "--store", "notes", "--rights", "read")
    expect(web.request("GET", "/api/v1/stores/notes/keys?limit=1", token=revoked), 200,
           "a token before revocation")
    token_id = next(t["id"] for t in web.request("GET", "/api/v1/tokens", token=world.admin)
                    .json()["tokens"] if t["name"] == "short")
    expect(web.request("DELETE", "/api/v1/tokens/" + token_id, token=world.admin), 200, "revoke")
    expect_problem(web.request("GET", "/api/v1/stores/notes/keys?limit=1", token=revoked), 401,
                   "a revoked token")
    # The kernel away: 503, and back to normal once it returns.
    world.kernel.stop()
    problem = expect_problem(web.request("GET", key, token=token), 503, "the kernel away")
    check(web.request("GET", key, token=token).headers.get("retry-after"), "503 without Retry-After")
    world.kernel.start()
    wait_until(lambda: web.request("PUT", key, "back", token=token).status == 200,
               "lattice-web to reach the restarted kernel")


# ---- Chat ---------------------------------------------------------------------------------


def chat(world):
    """Post, reply, react, topic and paged history of a chat store."""
    web, admin = world.web, world.admin
    expect(web.request("POST", "/api/v1/stores", {"name": "talk", "type": "chat"}, token=admin),
           201, "a chat store")
    base = "/api/v1/stores/talk/channels/" + quote("#general")
    hashes = []
    for i in range(5):
        posted = expect(web.request("POST", base + "/messages",
                                    {"text": "hello %d" % i, "sender": "ann"}, token=admin),
                        201, "post").json()
        hashes.append(posted["hash"])
    expect(web.request("POST", base + "/messages/%s/replies" % hashes[0], {"text": "re"},
                       token=admin), 201, "reply")
    expect(web.request("POST", base + "/messages/%s/reactions" % hashes[1], {"emoji": "+1"},
                       token=admin), 201, "react")
    expect(web.request("PUT", base + "/topic", {"topic": "Plans"}, token=admin), 200, "topic")
    topic = expect(web.request("GET", base + "/topic", token=admin), 200, "get topic").json()
    check(topic["set"] and topic["text"] == "Plans", "topic %r" % topic)
    page = expect(web.request("GET", base + "/messages?limit=3", token=admin), 200,
                  "history").json()
    check(len(page["messages"]) == 3 and page["next_before"], "first page %r" % page)
    older = expect(web.request("GET", base + "/messages?limit=50&before=" +
                               quote(page["next_before"]), token=admin), 200, "older").json()
    texts = [m["text"] for m in older["messages"] + page["messages"]]
    check(texts[:5] == ["hello %d" % i for i in range(5)], "history in order: %r" % texts)
    channels = expect(web.request("GET", "/api/v1/stores/talk/channels", token=admin), 200,
                      "channels").json()
    check([c["name"].lstrip("#") for c in channels["channels"]] == ["general"],
          "channels %r" % channels)
    expect_problem(web.request("POST", base + "/messages", {"text": ""}, token=admin), 400,
                   "an empty message")


# ---- Admin and session --------------------------------------------------------------------


def admin_routes(world):
    """Node, stores, tokens, peers and services through the admin cookie."""
    web, admin = world.web, world.admin
    node = expect(web.request("GET", "/api/v1/node", token=admin), 200, "node").json()
    check(node["node"]["name"] == "webnode", "node %r" % node["node"])
    stores = expect(web.request("GET", "/api/v1/stores", token=admin), 200, "stores").json()
    check("notes" in [s["name"] for s in stores["stores"]], "stores %r" % stores)
    expect(web.request("POST", "/api/v1/stores/notes/archive", token=admin), 200, "archive")
    expect_problem(web.request("PUT", "/api/v1/stores/notes/keys/k", "x", token=world.token),
                   409, "a write to an archived store")
    expect(web.request("POST", "/api/v1/stores/notes/unarchive", token=admin), 200, "unarchive")
    expect(web.request("PUT", "/api/v1/stores/notes/keys/k", "x", token=world.token), 200,
           "a write after unarchive")
    status = expect(web.request("GET", "/api/v1/stores/notes/status", token=admin), 200,
                    "store status").json()
    check(int(status["witnessed"]) >= 1, "store status %r" % status)
    created = expect(web.request("POST", "/api/v1/tokens",
                                 {"name": "made-by-web", "stores": ["notes"], "rights": ["read"]},
                                 token=admin), 201, "token create").json()
    expect(web.request("GET", "/api/v1/stores/notes/keys/k", token=created["token"]), 200,
           "the new token reads")
    tokens = expect(web.request("GET", "/api/v1/tokens", token=admin), 200, "tokens").json()
    check("made-by-web" in [t["name"] for t in tokens["tokens"]], "tokens %r" % tokens)
    peers = expect(web.request("GET", "/api/v1/peers", token=admin), 200, "peers").json()
    check(any(p.get("self") for p in peers["peers"]), "peers list lacks this node: %r" % peers)
    me = next(p for p in peers["peers"] if p.get("self"))
    renamed = expect(web.request("PATCH", "/api/v1/peers/" + me["node_id"], {"name": "renamed"},
                                 token=admin), 200, "rename this node").json()
    check(any(p["name"] == "renamed" for p in renamed["peers"]), "rename: %r" % renamed)
    expect_problem(web.request("DELETE", "/api/v1/peers/00000000deadbeef", token=admin), 404,
                   "revoking a node that is not a peer")
    invite = expect(web.request("POST", "/api/v1/peers/invitations", {}, token=admin), 201,
                    "invite").json()
    check(len(invite["token"]) > 20, "invite %r" % invite)
    services = expect(web.request("GET", "/api/v1/services", token=admin), 200, "services").json()
    check("instances" in services, "services %r" % services)
    expect_problem(web.request("PUT", "/api/v1/services/lattice.irc-gateway/consent",
                               {"consent": "sometimes"}, token=admin), 400, "a bad consent")
    expect_problem(web.request("POST", "/api/v1/stores", {"name": "x", "type": "kv",
                                                          "colour": "red"}, token=admin),
                   400, "an unknown field in a request body", "colour")
    # Metrics: the admin cookie or a token with the metrics right; others are refused.
    metrics = expect(web.request("GET", "/metrics", token=admin), 200, "metrics").body.decode()
    check("# TYPE lattice_rpc_latency_seconds histogram" in metrics and
          "lattice_web_http_connections_open" in metrics, "metrics text: %s" % metrics[:500])
    served = re.search(r'^lattice_web_http_requests_total\{class="2xx"\} (\d+)', metrics, re.M)
    check(served and int(served.group(1)) >= 10, "2xx responses counted: %r" % served)
    expect_problem(web.request("GET", "/metrics", token=world.token), 403,
                   "metrics with a token lacking the metrics right")
    expect_problem(web.request("GET", "/metrics"), 401, "metrics without a token")
    scraper = world.kernel.token("scraper", "--rights", "metrics")
    expect(web.request("GET", "/metrics", token=scraper), 200, "metrics with the metrics right")
    doc = expect(web.request("GET", "/api/v1/openapi.json"), 200, "openapi").json()
    check(doc["openapi"].startswith("3.1"), "openapi version %r" % doc.get("openapi"))


def session_cookie(world):
    """Log in with a token: an HttpOnly SameSite=Strict cookie that works for reads, and for
    writes only from this origin."""
    web = world.web
    expect_problem(web.request("POST", "/api/v1/session", {"token": "wrong"}), 401, "bad login")
    login = expect(web.request("POST", "/api/v1/session", {"token": world.token}), 200, "login")
    cookie = login.headers.get("set-cookie", "")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie,
          "session cookie %r" % cookie)
    pair = cookie.split(";")[0]
    session = {"Cookie": pair}
    who = expect(web.request("GET", "/api/v1/session", headers=session), 200, "who am I").json()
    check(who["admin"] is False, "a service token shown as admin: %r" % who)
    path = "/api/v1/stores/notes/keys/c"
    expect_problem(web.request("PUT", path, "x", headers=session), 403, "cookie write, no Origin",
                   "origin")
    expect_problem(web.request("PUT", path, "x", headers=dict(session, Origin="http://evil.example")),
                   403, "cookie write from another origin")
    expect(web.request("PUT", path, "x", headers=dict(session, Origin=web.url)), 200,
           "cookie write from this origin")
    expect(web.request("GET", path, headers=session), 200, "cookie read")
    logout = expect(web.request("DELETE", "/api/v1/session"), 204, "logout")
    check("Max-Age=0" in logout.headers.get("set-cookie", ""), "logout does not clear the cookie")
    page = web.request("GET", "/", check_schema=False)
    check(page.status == 200, "the page: %r" % page)
    csp = page.headers.get("content-security-policy", "")
    check("script-src 'self'" in csp and "frame-ancestors 'none'" in csp, "page CSP %r" % csp)


def started_by_the_service_manager(world):
    """Declared and consented through the API, lattice-web's descriptor has the kernel start
    another lattice-web on the port the declaration names, on loopback; it serves."""
    import socket
    web, admin = world.web, world.admin
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    expect(web.request("PUT", "/api/v1/services/lattice.web-gateway",
                       {"store": "notes", "policy": "Global",
                        "settings": [{"name": "port", "value": str(port)}]}, token=admin),
           200, "declare the web gateway")
    expect(web.request("PUT", "/api/v1/services/lattice.web-gateway/consent",
                       {"consent": "follow-mesh"}, token=admin), 200, "consent")

    def running():
        services = web.request("GET", "/api/v1/services", token=admin).json()
        return any(i["service_id"] == "lattice.web-gateway" and i["status"] == "running"
                   for i in services["instances"])
    wait_until(running, "the ServiceManager to start lattice-web", 60)

    def serves():
        done = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                               "http://127.0.0.1:%d/api/v1/openapi.json" % port],
                              capture_output=True, text=True)
        return done.stdout == "200"
    wait_until(serves, "the started lattice-web to answer on port %d" % port)
    control = "/api/v1/services/lattice.web-gateway/"
    expect(web.request("POST", control + "stop", {"store": "notes"}, token=admin), 200, "stop")
    wait_until(lambda: not serves(), "the stopped lattice-web to go away", 60)
    expect(web.request("POST", control + "start", {"store": "notes"}, token=admin), 200, "start")
    wait_until(serves, "the restarted lattice-web to answer", 60)
    expect(web.request("POST", control + "reset", {"store": "notes"}, token=admin), 200, "reset")
    overrides = expect(web.request("PUT", control + "override",
                                   {"store": "notes", "key": "bind", "value": "127.0.0.1"},
                                   token=admin), 200, "override").json()
    check(any(o["name"] == "bind" for o in overrides["overrides"]), "overrides %r" % overrides)
    expect(web.request("PUT", control + "consent", {"consent": "block"}, token=admin), 200,
           "block")
    wait_until(lambda: not serves(), "the blocked lattice-web to go away", 60)
    expect(web.request("DELETE", "/api/v1/services/lattice.web-gateway?store=notes",
                       token=admin), 200, "undeclare")


SCENARIOS = {f.__name__: f for f in (keys_round_trip, scan_pages, bad_input, chat, admin_routes,
                                     session_cookie, started_by_the_service_manager)}


def main():
    return run_main(__doc__, SCENARIOS, World)


if __name__ == "__main__":
    sys.exit(main())
