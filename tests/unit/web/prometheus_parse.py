#!/usr/bin/env python3
"""Parses Prometheus text exposition on stdin with the reference Python client's parser
(Debian: python3-prometheus-client) and prints what it understood as JSON: one object per
family with its type and samples [name, labels, value]. Exits 1 with the parser's error when
the text does not parse."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    out = []
    try:
        for family in text_string_to_metric_families(text):
            samples = []
            for s in family.samples:
                value = s.value
                if math.isinf(value):
                    value = "+Inf" if value > 0 else "-Inf"
                samples.append([s.name, s.labels, value])
            out.append({"name": family.name, "type": family.type,
                        "documentation": family.documentation, "samples": samples})
    except Exception as error:  # the parser raises ValueError and others for bad input
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
