"""Shared parts of lattice-web's end-to-end tests: a real lattice-kernel and a real
lattice-web in a temporary directory, curl as the HTTP client, and a check of every response
against lattice-web's own OpenAPI document (served at /api/v1/openapi.json).

Nothing sleeps to wait: every wait polls for the awaited thing with a deadline and fails
naming what did not happen.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import jsonschema

DEADLINE = 20.0


class TestFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def wait_until(predicate, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise TestFailure("timed out waiting for " + what)
        time.sleep(delay)  # polling interval, not a wait for the event itself
        delay = min(delay * 2, 0.2)


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


class Kernel:
    """A lattice-kernel on a data directory that survives restarts; no peer listener unless
    `listen` names a loopback address."""

    def __init__(self, args, root, name="webnode", listen=""):
        self.binary = args.kernel
        self.ctl_binary = args.ctl
        self.root = root
        self.name = name
        self.listen = listen
        self.data = os.path.join(root, "data")
        self.socket = os.path.join(root, "kernel.sock")
        self.log_path = os.path.join(root, "kernel.log")
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--data-dir", self.data, "--socket", self.socket, "--name", self.name,
             "--listen", self.listen, "--log-level", "debug"], stdout=log, stderr=log)
        wait_until(lambda: self.ctl_ok("status"), "kernel %s to answer on its socket" % self.name)

    def ctl_command(self):
        return [self.ctl_binary, "--socket", self.socket]

    def ctl_ok(self, *args):
        if self.process.poll() is not None:
            raise TestFailure("the kernel exited: " + tail(self.log_path))
        return subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True).returncode == 0

    def ctl(self, *args):
        done = subprocess.run([self.ctl_binary, "--socket", self.socket, *args],
                              capture_output=True, text=True, timeout=60)
        check(done.returncode == 0, "lattice-ctl %s failed: %s" % (" ".join(args), done.stderr))
        return done.stdout

    def admin_cookie(self):
        with open(os.path.join(os.path.dirname(self.socket), "admin.cookie")) as f:
            return f.read().strip()

    def token(self, name, *scope):
        out = self.ctl("token", "create", name, *scope)
        return re.search(r"token:\s*(\S+)", out).group(1)

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MeshKernel(Kernel):
    """A kernel with its own data and socket directory (so its own admin.cookie), listening
    for peers on 127.0.0.1; restarts keep the port it first took."""

    def __init__(self, args, root, name):
        os.makedirs(root)
        super().__init__(args, root, name, "127.0.0.1:0")

    def start(self):
        super().start()
        addresses = self.status().get("listen_addresses", [])
        check(addresses and addresses[0].startswith("127.0.0.1:"),
              "kernel %s listens on %r" % (self.name, addresses))
        self.listen = addresses[0]

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args))

    def status(self):
        return self.ctl_json("status")

    def connected(self):
        return self.status().get("peers_connected", 0) >= 1

    def has_store(self, store_id):
        """Whether the store is here and done bootstrapping."""
        status = self.status()
        if not any(s.get("id") == store_id for s in status.get("stores", [])):
            return False
        return all(b.get("done", False) for b in status.get("bootstraps", [])
                   if b.get("store_id") == store_id)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> last value
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:300])


class OpenApi:
    """Checks responses against the OpenAPI document: the path and method must be described,
    the status listed, and a JSON body must match the schema given for it."""

    def __init__(self, document):
        self.document = document
        self.resolver = jsonschema.RefResolver.from_schema(document)
        self.routes = []
        for template, operations in document["paths"].items():
            pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
            self.routes.append((re.compile(pattern), template, operations))

    def check(self, method, path, response):
        path = path.split("?", 1)[0]
        matches = [(t, ops) for rx, t, ops in self.routes if rx.match(path)]
        # A literal route ("/peers/invitations") wins over a templated one ("/peers/{peer}").
        matches.sort(key=lambda m: m[0].count("{"))
        if not matches:
            # A path the API does not have: a 404 problem, as every error is.
            check(response.status == 404, "%s answered %d, but no path of the OpenAPI "
                  "document matches it" % (path, response.status))
            jsonschema.validate(response.json(), {"$ref": "#/components/schemas/Problem"},
                                resolver=self.resolver, cls=jsonschema.Draft202012Validator)
            return
        template, operations = matches[0]
        operation = operations.get(method.lower())
        if operation is None:
            check(response.status == 405, "%s %s is not in the OpenAPI document" % (method, template))
            return
        described = operation["responses"].get(str(response.status))
        check(described is not None, "%s %s answered %d, which the OpenAPI document does not list"
              % (method, template, response.status))
        if "$ref" in described:
            described = self.resolver.resolve(described["$ref"])[1]
        content = described.get("content")
        if not content or response.status == 204:
            return
        media = response.headers.get("content-type", "").split(";")[0].strip()
        check(media in content, "%s %s answered %d as %r; the document says %s" %
              (method, template, response.status, media, sorted(content)))
        schema = content[media].get("schema")
        if media.endswith("json") and schema:
            try:
                jsonschema.validate(response.json(), schema, resolver=self.resolver,
                                    cls=jsonschema.Draft202012Validator)
            except jsonschema.ValidationError as error:
                raise TestFailure("%s %s answered %d with a body that does not match the "
                                  "OpenAPI document: %s" % (method, template, response.status,
                                                            error.message))


class Web:
    """A lattice-web on a free loopback port, and curl to talk to it."""

    def __init__(self, args, kernel, root, extra=(), log_level="debug"):
        self.binary = args.web
        self.log_level = log_level
        self.kernel = kernel
        self.root = root
        self.extra = list(extra)
        self.log_path = os.path.join(root, "web.log")
        self.process = None
        self.port = None
        self.openapi = None
        self.checked = 0

    def start(self, port=0):
        log = open(self.log_path, "ab")
        self.log_start = os.path.getsize(self.log_path)
        self.process = subprocess.Popen(
            [self.binary, "--socket", self.kernel.socket, "--listen", "127.0.0.1:%d" % port,
             "--log-level", self.log_level, *self.extra], stdout=log, stderr=log)
        found = wait_until(lambda: self._listening(), "lattice-web to say where it listens")
        self.port = int(found)
        if self.openapi is None:
            self.openapi = OpenApi(self.request("GET", "/api/v1/openapi.json").json())

    def _listening(self):
        if self.process.poll() is not None:
            raise TestFailure("lattice-web exited: " + tail(self.log_path))
        with open(self.log_path, errors="replace") as f:
            f.seek(self.log_start)
            matches = re.findall(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
        return matches[-1] if matches else None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None, token=None, check_schema=True):
        """One request with curl; returns a Response. `body` is bytes, str or a JSON-able
        object (sent as application/json)."""
        headers = dict(headers or {})
        data = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        elif body is not None:
            data = body
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        header_file = os.path.join(self.root, "curl-headers")
        body_file = os.path.join(self.root, "curl-body")
        command = ["curl", "-sS", "--max-time", "30", "-X", method, "-o", body_file,
                   "-D", header_file, "-w", "%{http_code}", "-H", "Expect:"]
        for name, value in headers.items():
            command += ["-H", "%s: %s" % (name, value)]
        if data is not None:
            command += ["--data-binary", "@-"]
        command.append(self.url + path)
        done = subprocess.run(command, input=data, capture_output=True, timeout=60)
        check(done.returncode == 0, "curl %s %s failed: %s" % (method, path, done.stderr))
        status = int(done.stdout)
        parsed = {}
        with open(header_file, "rb") as f:
            for line in f.read().decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    parsed[name.strip().lower()] = value.strip()
        with open(body_file, "rb") as f:
            response = Response(status, parsed, f.read())
        if check_schema and self.openapi is not None:
            self.openapi.check(method, path, response)
            self.checked += 1
        return response

    def raw(self, data, read_until=b"\r\n\r\n"):
        """Sends raw bytes on a fresh connection and returns what comes back until the end of
        the response head (and the body, when the server closes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE) as s:
            s.sendall(data)
            received = b""
            while read_until not in received:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
            return received

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        check(self.process is None or self.process.returncode == 0,
              "lattice-web exited with %s: %s" % (self.process.returncode, tail(self.log_path)))


def expect(response, status, what):
    check(response.status == status, "%s: expected HTTP %d, got %r" % (what, status, response))
    return response


def expect_problem(response, status, what, mentions=None):
    expect(response, status, what)
    check(response.headers.get("content-type", "").startswith("application/problem+json"),
          "%s: the error is not a problem document: %r" % (what, response.headers))
    problem = response.json()
    check(problem.get("status") == status, "%s: problem status %r" % (what, problem))
    if mentions:
        check(mentions.lower() in problem.get("detail", "").lower(),
              "%s: the problem does not say %r: %r" % (what, mentions, problem))
    return problem


def run_main(doc, scenarios, make_world):
    """Parses --kernel/--ctl/--web and a scenario name, runs it in a world made by
    `make_world(args)`, and returns the exit status."""
    parser = argparse.ArgumentParser(description=doc.strip().split("\n")[0])
    for flag in ("--kernel", "--ctl", "--web"):
        parser.add_argument(flag, required=True)
    parser.add_argument("scenario", choices=sorted(scenarios))
    args = parser.parse_args()
    world = None
    ok = False
    try:
        world = make_world(args)
        scenarios[args.scenario](world)
        ok = True
    except TestFailure as failure:
        print("FAIL %s: %s" % (args.scenario, failure), file=sys.stderr)
        traceback.print_exc()
    except Exception:
        traceback.print_exc()
    finally:
        if world is not None:
            try:
                world.close()
            except TestFailure as failure:
                print("FAIL at close: %s" % failure, file=sys.stderr)
                ok = False
            if not ok:
                for name in ("kernel.log", "web.log"):
                    print("---- %s\n%s" % (name, tail(os.path.join(world.root, name))),
                          file=sys.stderr)
            else:
                shutil.rmtree(world.root, ignore_errors=True)
    return 0 if ok else 1


class SseClient:
    """curl -N following a server-sent-event stream; events are parsed as they arrive."""

    def __init__(self, web, path, token, last_event_id=None):
        command = ["curl", "-sS", "-N", "--max-time", "120", "-H", "Authorization: Bearer " + token]
        if last_event_id is not None:
            command += ["-H", "Last-Event-ID: " + last_event_id]
        command.append(web.url + path)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.process.stdout.fileno(), False)
        self.buffer = b""
        self.events = []        # dicts: id, event, data (parsed JSON when it is JSON)
        self.last_id = last_event_id
        self.comments = 0
        self._fields = {}

    def pump(self):
        while True:
            try:
                chunk = self.process.stdout.read(65536)
            except BlockingIOError:
                chunk = None
            if not chunk:
                break
            self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self._line(line.decode())
        return self.process.poll() is None

    def _line(self, line):
        if line == "":
            if "id" in self._fields:
                self.last_id = self._fields["id"]
            if "data" in self._fields:
                data = self._fields["data"]
                try:
                    data = json.loads(data)
                except ValueError:
                    pass
                self.events.append({"id": self._fields.get("id"),
                                    "event": self._fields.get("event", "message"), "data": data})
            self._fields = {}
        elif line.startswith(":"):
            self.comments += 1
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data" and "data" in self._fields:
                value = self._fields["data"] + "\n" + value
            self._fields[name] = value

    def wait_events(self, count, what, deadline=DEADLINE):
        def enough():
            alive = self.pump()
            if len(self.events) >= count:
                return True
            if not alive:
                raise TestFailure("the event stream ended while waiting for %s: %s" %
                                  (what, self.process.stderr.read().decode(errors="replace")))
            return False
        wait_until(enough, what, deadline)
        return self.events

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()
