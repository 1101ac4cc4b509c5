"""Checks that report themselves and let a test go on: each prints "ok:" or "FAIL:" and its
message, and `failures` keeps the failed ones, so a script makes every check and then exits
1 if any failed. Shared by the systemd and package tests."""

failures = []


def check(ok, message):
    print(("ok:   " if ok else "FAIL: ") + message, flush=True)
    if not ok:
        failures.append(message)
    return ok


def verdict():
    """Prints how the checks went; returns the script's exit status (1 if any failed)."""
    print(f"{len(failures)} failure(s)" if failures else "all checks passed")
    return 1 if failures else 0
