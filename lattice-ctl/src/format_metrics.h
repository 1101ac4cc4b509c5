// How `lattice-ctl metrics` shows the kernel's counters: the node, then a table each for
// stores, peers, RPC methods that were called, and service instances.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

std::string MetricsText(const v1::MetricsResponse& metrics);
// Every field under its .proto name, counters as JSON numbers (not protobuf's strings).
nlohmann::json MetricsJson(const v1::MetricsResponse& metrics);

// The smallest bucket bound at or under which a fraction `quantile` (0..1) of the
// observations fall; a negative number when the histogram is empty, +infinity when they
// lie beyond the largest bound.
double HistogramQuantileBound(const v1::Histogram& histogram, double quantile);
// "250us", "2.5ms", "1.2s" (three significant digits; ASCII, so table columns align).
std::string FormatSeconds(double seconds);
// "<=250us", "<=2.5ms", "<=1s" for a bucket bound from HistogramQuantileBound; "-" for an empty
// histogram, "beyond the largest bucket" for infinity.
std::string FormatLatencyBound(double seconds);
// "512 B", "1.5 KiB", "3.0 MiB", "2.0 GiB".
std::string FormatByteCount(uint64_t bytes);

}  // namespace lattice::ctl
