#!/usr/bin/python3
"""Prints lattice-web's OpenAPI 3.1 document (JSON). The build runs it and embeds the result in
lattice-web, which serves it at /api/v1/openapi.json; the end-to-end tests check every response
they get against it. Schemas of kernel messages follow protobuf's JSON mapping with the .proto's
field names (64-bit numbers as decimal strings)."""
import json
U64 = {"type": "string", "pattern": "^[0-9]+$", "description": "a 64-bit unsigned number, as a decimal string (protobuf's JSON mapping)"}
def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def obj(props, required=(), extra=False, desc=None):
    o = {"type": "object", "properties": props, "required": list(required)}
    if not extra: o["additionalProperties"] = False
    if desc: o["description"] = desc
    return o
S = {"type": "string"}; B = {"type": "boolean"}; I = {"type": "integer", "minimum": 0}
def arr(x): return {"type": "array", "items": x}
HLC = obj({"wall_ms": U64, "counter": {"type": "integer"}}, ["wall_ms", "counter"])
schemas = {
 "Problem": obj({"type": S, "title": S, "status": {"type": "integer"}, "detail": S, "instance": S},
                ["type", "title", "status"], extra=True, desc="RFC 9457 problem details"),
 "Hlc": HLC,
 "WriteResult": obj({"hash": S, "cursor": I}, ["hash", "cursor"]),
 "NodeInfo": obj({"node_id": S, "name": S, "root_store_id": S, "version": S}, ["node_id", "name", "root_store_id", "version"]),
 "Session": obj({"admin": B, "node": ref("NodeInfo")}, ["admin", "node"]),
 "StoreInfo": obj({"id": S, "name": S, "type": {"enum": ["kv", "chat", "fs", "root"]}, "status": S,
                   "mesh_id": S, "intentions": U64, "floating": U64}, ["id", "name", "type", "status"]),
 "StoreList": obj({"stores": arr(ref("StoreInfo"))}, ["stores"]),
 "NodeStatus": obj({"node": ref("NodeInfo"), "uptime_ms": U64, "stores": arr(ref("StoreInfo")), "peers_connected": {"type": "integer"}, "peers_known": {"type": "integer"}}, ["node", "uptime_ms"], extra=True),
 "StoreStatus": obj({"store": ref("StoreInfo"), "witnessed": U64, "floating": U64}, [], extra=True),
 "KeyValue": obj({"key": S, "key_base64": S, "value": S, "value_base64": S, "conflicted": B, "author": S,
                  "hlc": HLC, "heads": arr(S)}, ["key_base64", "value_base64", "conflicted", "author", "hlc", "heads"]),
 "Head": obj({"hash": S, "author": S, "hlc": HLC, "deleted": B, "value": S, "value_base64": S}, ["hash", "author", "hlc", "deleted"]),
 "Inspection": obj({"key": S, "key_base64": S, "conflicted": B, "heads": arr(ref("Head"))}, ["key_base64", "conflicted", "heads"]),
 "ValueBody": obj({"value": S, "value_base64": S}, []),
 "ScanEntry": obj({"key": S, "key_base64": S, "value": S, "value_base64": S, "conflicted": B}, ["key_base64", "value_base64", "conflicted"]),
 "ScanPage": obj({"entries": arr(ref("ScanEntry")), "next_cursor": {"type": ["string", "null"]}}, ["entries", "next_cursor"]),
 "BatchOp": obj({"key": S, "key_base64": S, "value": S, "value_base64": S, "delete": B}, []),
 "Batch": obj({"ops": {"type": "array", "items": ref("BatchOp"), "minItems": 1, "maxItems": 1024}}, ["ops"]),
 "KvEvent": obj({"cursor": I, "key": S, "key_base64": S, "value": S, "value_base64": S, "deleted": B,
                 "author": S, "hlc": HLC, "hash": S}, ["cursor", "key_base64", "deleted", "author", "hlc", "hash"]),
 "ChatTag": obj({"key": S, "value": S}, ["key"]),
 "ChatModeChange": obj({"mode": S, "on": B, "arg": S}, ["mode"]),
 "ChannelMode": obj({"mode": S, "arg": S, "sender": S, "author": S, "hlc": HLC}, ["mode"]),
 "ChatMessage": obj({"hash": S, "channel": S, "kind": S, "text": S, "sender": S, "author": S, "hlc": HLC,
                     "ref": S, "action": B, "cursor": U64, "tags": arr(ref("ChatTag")),
                     "modes": arr(ref("ChatModeChange")), "msgid": S, "time_ms": U64,
                     "ref_msgid": S}, ["hash", "channel", "kind", "text"]),
 "History": obj({"messages": arr(ref("ChatMessage")), "next_before": S}, ["messages", "next_before"]),
 "Topic": obj({"set": B, "text": S, "sender": S, "author": S, "hlc": HLC}, ["set"]),
 "ChannelList": obj({"channels": arr(obj({"name": S, "messages": U64, "topic": ref("Topic"),
                                          "modes": arr(ref("ChannelMode"))}, ["name"]))}, ["channels"]),
 "ChatText": obj({"text": S, "sender": S, "action": B}, ["text"]),
 "ChatReaction": obj({"emoji": S, "sender": S}, ["emoji"]),
 "TopicBody": obj({"topic": S, "sender": S}, ["topic"]),
 "PeerInfo": obj({"node_id": S, "name": S, "status": S, "mesh_id": S, "addresses": arr(S), "connected": B,
                  "last_seen_ms": U64, "forked": B, "self": B, "lag": U64, "remote_address": S,
                  "last_sync_ms": U64, "revoked_by": S, "revoked_at_ms": U64}, ["node_id", "name", "status"]),
 "PeerList": obj({"peers": arr(ref("PeerInfo"))}, ["peers"]),
 "Invitation": obj({"token": S, "invite_id": S, "mesh_id": S, "expires_ms": U64, "addresses": arr(S)}, ["token", "invite_id", "mesh_id"]),
 "InvitationRequest": obj({"mesh": S, "ttl_seconds": {"type": ["integer", "string"]}, "readmit": S}, []),
 "PeerRename": obj({"name": S, "mesh": S}, ["name"]),
 "TokenInfo": obj({"id": S, "name": S, "stores": arr(S), "prefixes": arr(S), "rights": arr(S), "created_ms": U64,
                   "expires_ms": U64, "revoked": B, "keys": arr(S), "revoked_ms": U64}, ["id", "name", "rights"]),
 "TokenList": obj({"tokens": arr(ref("TokenInfo"))}, ["tokens"]),
 "TokenRequest": obj({"name": S, "stores": arr(S), "prefixes": arr(S), "rights": arr(S), "ttl_seconds": {"type": ["integer", "string"]},
                      "allow_root_store": B, "keys": arr(S)}, ["name"], desc="prefixes and keys are base64 (protobuf bytes)"),
 "CreatedToken": obj({"info": ref("TokenInfo"), "token": S}, ["token"]),
 "ServiceList": obj({"descriptors": arr({"type": "object"}), "descriptor_errors": arr(S), "meshes": arr({"type": "object"}),
                     "instances": arr(ref("ServiceInstance")), "local_declarations": arr(ref("ServiceDeclaration"))},
                    ["descriptors", "meshes", "instances"]),
 "ServiceDeclaration": obj({"service_id": S, "mesh_id": S, "local": B, "enabled": B, "policy": S, "stores": arr(S),
                            "settings": arr({"type": "object"}), "error": S, "author": S}, ["service_id"]),
 "ServiceInstance": obj({"service_id": S, "store_id": S, "store_name": S, "mesh_id": S, "status": S, "reason": S,
                         "pid": {"type": "integer"}, "endpoints": arr(S), "started_ms": U64, "restarts": {"type": "integer"},
                         "next_start_in_ms": {"type": ["string", "integer"]}, "node_id": S, "node_name": S, "control": S,
                         "overrides": arr({"type": "object"})}, ["service_id", "status"]),
 "ServiceConsent": obj({"service_id": S, "mesh_id": S, "consent": S}, ["service_id", "consent"]),
 "ServiceOverrides": obj({"service_id": S, "store_id": S, "overrides": arr({"type": "object"})}, ["service_id"]),
 "DeclareRequest": obj({"store": S, "policy": S, "local": B, "settings": arr(obj({"name": S, "value": S}, ["name"]))}, []),
 "ConsentRequest": obj({"consent": {"enum": ["manual", "follow-mesh", "always", "block"]}, "mesh": S}, ["consent"]),
 "OverrideRequest": obj({"store": S, "key": S, "value": S, "clear": B}, ["key"]),
 "ControlRequest": obj({"store": S}, []),
 "CreateStoreRequest": obj({"name": S, "type": {"enum": ["kv", "chat", "fs"]}, "mesh": S}, ["name", "type"]),
 "LoginRequest": obj({"token": S}, ["token"]),
}
def problem(desc): return {"description": desc, "content": {"application/problem+json": {"schema": ref("Problem")}}}
ERRDEF = {"400": problem("malformed request"), "401": problem("missing or wrong token"),
       "403": problem("the token may not do this"), "404": problem("no such store, key or resource"),
       "409": problem("a conflict: a failed If-Match, an archived store, a state that forbids it"),
       "413": problem("the body or a value is over a limit"), "429": problem("a kernel limit (e.g. streams per token)"),
       "503": problem("the kernel is not answering")}
ERR = {k: {"$ref": f"#/components/responses/E{k}"} for k in ERRDEF}
def js(schema, desc="OK"): return {"description": desc, "content": {"application/json": {"schema": ref(schema) if isinstance(schema, str) else schema}}}
def body(schema, required=True): return {"required": required, "content": {"application/json": {"schema": ref(schema)}}}
def op(summary, responses, params=(), request=None, tag=None, extra=None):
    o = {"summary": summary, "responses": {**responses, **ERR}}
    if params: o["parameters"] = list(params)
    if request: o["requestBody"] = request
    if tag: o["tags"] = [tag]
    if extra: o.update(extra)
    return o
def p(name, where="path", desc="", schema=S, required=None):
    return {"name": name, "in": where, "required": where == "path" if required is None else required, "description": desc, "schema": schema}
STORE = p("store", desc="store id or name"); KEY = p("key", desc="the key, percent-encoded (any bytes)")
CH = p("channel", desc="channel name, percent-encoded (e.g. %23general)"); ID = p("id")
paths = {
 "/api/v1/session": {
   "post": op("Log in: checks the token and sets the HttpOnly session cookie", {"200": js("Session")}, request=body("LoginRequest"), tag="session", extra={"security": []}),
   "get": op("Who the caller is", {"200": js("Session")}, tag="session"),
   "delete": op("Log out (clears the cookie)", {"204": {"description": "logged out"}}, tag="session", extra={"security": []})},
 "/api/v1/node": {"get": op("Node status (admin)", {"200": js("NodeStatus")}, tag="node")},
 "/api/v1/stores": {
   "get": op("Every store (admin)", {"200": js("StoreList")}, [p("include_archived", "query", "true: include archived stores")], tag="stores"),
   "post": op("Create a store (admin)", {"201": js("StoreInfo", "created")}, request=body("CreateStoreRequest"), tag="stores")},
 "/api/v1/stores/{store}": {"get": op("One store", {"200": js("StoreInfo")}, [STORE], tag="stores")},
 "/api/v1/stores/{store}/status": {"get": op("A store's replication status (admin)", {"200": js("StoreStatus")}, [STORE], tag="stores")},
 "/api/v1/stores/{store}/archive": {"post": op("Archive a store (admin)", {"200": js("StoreInfo")}, [STORE], tag="stores")},
 "/api/v1/stores/{store}/unarchive": {"post": op("Unarchive a store (admin)", {"200": js("StoreInfo")}, [STORE], tag="stores")},
 "/api/v1/stores/{store}/keys/{key}": {
   "get": op("Read a key: its value as bytes, or JSON with Accept: application/json; ?inspect lists every head",
             {"200": {"description": "the value", "headers": {"ETag": {"schema": S, "description": "names the key's heads; give it to If-Match"}},
                      "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                  "application/json": {"schema": {"oneOf": [ref("KeyValue"), ref("Inspection")]}}}}},
             [STORE, KEY, p("inspect", "query", "present: every head of the key, winner first")], tag="keys"),
   "put": op("Write a key; with If-Match, only over the heads its ETag names (409 otherwise); If-None-Match: * only if never written",
             {"200": {"description": "written", "content": {"application/json": {"schema": ref("WriteResult")}}}},
             [STORE, KEY, p("If-Match", "header"), p("If-None-Match", "header")],
             request={"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                                      "application/json": {"schema": ref("ValueBody")}}}, tag="keys"),
   "delete": op("Delete a key (If-Match as for PUT)", {"200": js("WriteResult")}, [STORE, KEY, p("If-Match", "header")], tag="keys")},
 "/api/v1/stores/{store}/keys": {"get": op("Scan keys by prefix or range, a page at a time",
   {"200": js("ScanPage")}, [STORE, p("prefix", "query"), p("start", "query", "first key (inclusive)"), p("end", "query", "end (exclusive)"),
    p("limit", "query", "entries per page, 1..1000 (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000}),
    p("cursor", "query", "next_cursor of the previous page")], tag="keys")},
 "/api/v1/stores/{store}/batch": {"post": op("Write several keys atomically", {"200": js("WriteResult")}, [STORE], request=body("Batch"), tag="keys")},
 "/api/v1/stores/{store}/events": {"get": op("Live changes as server-sent events. Each event's id is its position in the store's log (a cursor, or cursor.n inside a batch); Last-Event-ID or ?since= resumes exactly after it. Events: change (kv; data = KvEvent), message (chat; data = ChatMessage), error (data = Problem). Comment lines are heartbeats.",
   {"200": {"description": "the event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
   [STORE, p("prefix", "query", "kv: only keys with this prefix"), p("channel", "query", "chat: only this channel"),
    p("since", "query", "resume after this event id"), p("Last-Event-ID", "header", "resume after this event id (wins over since)")], tag="events")},
 "/api/v1/stores/{store}/channels": {"get": op("Channels of a chat store", {"200": js("ChannelList")}, [STORE], tag="chat")},
 "/api/v1/stores/{store}/channels/{channel}/messages": {
   "get": op("History, newest page first, messages oldest first", {"200": js("History")},
             [STORE, CH, p("limit", "query", "1..1000 (default 50)", {"type": "integer", "minimum": 1, "maximum": 1000}), p("before", "query", "next_before of the previous page")], tag="chat"),
   "post": op("Post a message; answered with the message as the history shows it", {"201": js("ChatMessage", "posted")}, [STORE, CH], request=body("ChatText"), tag="chat")},
 "/api/v1/stores/{store}/channels/{channel}/messages/{id}/replies": {"post": op("Reply to a message", {"201": js("WriteResult", "posted")}, [STORE, CH, p("id", desc="the message's hash")], request=body("ChatText"), tag="chat")},
 "/api/v1/stores/{store}/channels/{channel}/messages/{id}/reactions": {"post": op("React to a message", {"201": js("WriteResult", "posted")}, [STORE, CH, p("id", desc="the message's hash")], request=body("ChatReaction"), tag="chat")},
 "/api/v1/stores/{store}/channels/{channel}/topic": {
   "get": op("A channel's topic", {"200": js("Topic")}, [STORE, CH], tag="chat"),
   "put": op("Set a channel's topic", {"200": js("WriteResult")}, [STORE, CH], request=body("TopicBody"), tag="chat")},
 "/api/v1/peers": {"get": op("Peers of every mesh (admin)", {"200": js("PeerList")}, [p("mesh", "query")], tag="peers")},
 "/api/v1/peers/invitations": {"post": op("Invite a machine: a single-use token (admin)", {"201": js("Invitation", "invited")}, request=body("InvitationRequest", False), tag="peers")},
 "/api/v1/peers/{peer}": {
   "delete": op("Revoke a peer (admin)", {"200": js("PeerList")}, [p("peer", desc="node id, unique prefix or name"), p("mesh", "query")], tag="peers"),
   "patch": op("Rename a peer (admin)", {"200": js("PeerList")}, [p("peer")], request=body("PeerRename"), tag="peers")},
 "/api/v1/tokens": {
   "get": op("Service tokens (admin)", {"200": js("TokenList")}, tag="tokens"),
   "post": op("Create a service token; its secret is shown once (admin)", {"201": js("CreatedToken", "created")}, request=body("TokenRequest"), tag="tokens")},
 "/api/v1/tokens/{id}": {"delete": op("Revoke a token (admin)", {"200": js("TokenInfo")}, [ID], tag="tokens")},
 "/api/v1/services": {"get": op("Descriptors, declarations, consents and instances (admin)", {"200": js("ServiceList")}, [p("mesh", "query")], tag="services")},
 "/api/v1/services/{id}": {
   "put": op("Declare a service (admin)", {"200": js("ServiceDeclaration")}, [ID], request=body("DeclareRequest"), tag="services"),
   "delete": op("Withdraw a declaration (admin)", {"200": js("ServiceDeclaration")}, [ID, p("store", "query"), p("local", "query")], tag="services")},
 "/api/v1/services/{id}/consent": {"put": op("This node's consent for a service (admin)", {"200": js("ServiceConsent")}, [ID], request=body("ConsentRequest"), tag="services")},
 "/api/v1/services/{id}/override": {"put": op("A local setting override (admin)", {"200": js("ServiceOverrides")}, [ID], request=body("OverrideRequest"), tag="services")},
}
for action in ("start", "stop", "reset"):
    paths[f"/api/v1/services/{{id}}/{action}"] = {"post": op(f"{action.capitalize()} a service instance on this node (admin)", {"200": js("ServiceInstance")}, [ID], request=body("ControlRequest", False), tag="services")}
paths["/api/v1/openapi.json"] = {"get": {"summary": "This document", "security": [], "tags": ["meta"], "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
paths["/metrics"] = {"get": {"summary": "Prometheus metrics (a token with the metrics right, or the admin cookie)", "tags": ["meta"],
   "responses": {"200": {"description": "text exposition format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}, **{k: ERR[k] for k in ("401", "403", "503")}}}}
doc = {"openapi": "3.1.0",
 "info": {"title": "Lattice web API", "version": "1.0.0",
          "description": "lattice-web's REST API over a Lattice kernel. Every call is judged by the kernel with the caller's bearer token (a service token, or the admin cookie for the operator). Errors are RFC 9457 problem documents."},
 "servers": [{"url": "/"}],
 "security": [{"bearer": []}, {"session": []}],
 "paths": paths,
 "components": {"schemas": schemas, "responses": {f"E{k}": v for k, v in ERRDEF.items()}, "securitySchemes": {
    "bearer": {"type": "http", "scheme": "bearer", "description": "a kernel service token or the admin cookie"},
    "session": {"type": "apiKey", "in": "cookie", "name": "lattice_session", "description": "set by POST /api/v1/session"}}}}
print(json.dumps(doc, indent=1))
