"""Checks that report themselves and let a test go on: each prints "ok:" or "FAIL:" and its
message, and `failures` keeps the failed ones, so a script makes every check and then exits
1 if any failed. Shared by the systemd and package tests."""

failures = []


def check(ok, message):
    print(("ok:   " if ok else "FAIL: ") + message, flush=True)
    if not ok:
        failures.append(message)
    return ok
