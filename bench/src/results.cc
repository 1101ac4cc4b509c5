#include "results.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace lattice::bench {
namespace {

std::string FormatValue(double value, const std::string& unit) {
  if (unit == "MiB") return fmt::format("{:.1f}", value);
  if (unit == "ms" || unit == "s") return fmt::format("{:.3g}", value);
  if (std::fabs(value) >= 100) return fmt::format("{:.0f}", value);
  return fmt::format("{:.3g}", value);
}

}  // namespace

double MedianOf(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void Results::Declare(const std::string& metric, const std::string& unit,
                      const std::string& group) {
  if (metrics_.count(metric) == 0) order_.push_back(metric);
  Metric& m = metrics_[metric];
  m.unit = unit;
  m.group = group;
}

void Results::Add(const std::string& metric, double value) {
  if (metrics_.count(metric) == 0) order_.push_back(metric);
  metrics_[metric].runs.push_back(value);
}

std::optional<double> Results::Median(const std::string& metric) const {
  auto it = metrics_.find(metric);
  if (it == metrics_.end() || it->second.runs.empty()) return std::nullopt;
  return MedianOf(it->second.runs);
}

const std::vector<double>& Results::Runs(const std::string& metric) const {
  static const std::vector<double> kNone;
  auto it = metrics_.find(metric);
  return it == metrics_.end() ? kNone : it->second.runs;
}

std::vector<double> Results::RatioRuns(const Ratio& ratio) const {
  const auto& num = Runs(ratio.numerator);
  const auto& den = Runs(ratio.denominator);
  std::vector<double> out;
  for (size_t i = 0; i < std::min(num.size(), den.size()); ++i) {
    if (den[i] > 0) out.push_back(num[i] / den[i]);
  }
  return out;
}

void Results::Print(std::FILE* out) const {
  std::string group;
  fmt::print(out, "\n{:<46} {:>12} {:<10} {}\n", "figure", "median", "unit", "rounds");
  for (const auto& name : order_) {
    const Metric& m = metrics_.at(name);
    if (m.runs.empty()) continue;
    if (m.group != group) {
      group = m.group;
      fmt::print(out, "-- {}\n", group);
    }
    std::string runs;
    for (double v : m.runs) runs += (runs.empty() ? "" : " ") + FormatValue(v, m.unit);
    fmt::print(out, "{:<46} {:>12} {:<10} {}\n", name, FormatValue(MedianOf(m.runs), m.unit),
               m.unit, runs);
  }
  PrintBounds(out);
  if (ratios_.empty()) return;
  fmt::print(out, "\n{:<46} {:>8} {:>9} {:<6} {}\n", "ratio (median of per-round ratios)", "value",
             "target", "", "rounds");
  for (const auto& ratio : ratios_) {
    auto runs = RatioRuns(ratio);
    if (runs.empty()) continue;
    double median = MedianOf(runs);
    std::string list;
    for (double v : runs) list += (list.empty() ? "" : " ") + fmt::format("{:.2f}", v);
    if (std::isnan(ratio.target)) {
      fmt::print(out, "{:<46} {:>8.2f} {:>9} {:<6} {}\n", ratio.name, median, "-", "", list);
      continue;
    }
    bool met = ratio.at_most ? median <= ratio.target : median >= ratio.target;
    fmt::print(out, "{:<46} {:>8.2f} {:>3}{:>6.2f} {:<6} {}\n", ratio.name, median,
               ratio.at_most ? "<=" : ">=", ratio.target, met ? "met" : "BELOW", list);
  }
}

void Results::PrintBounds(std::FILE* out) const {
  bool header = false;
  for (const auto& bound : bounds_) {
    auto median = Median(bound.metric);
    if (!median) continue;
    if (!header) {
      fmt::print(out, "\n{:<46} {:>8} {:>9} {:<6} {}\n", "bound (median)", "value", "limit", "",
                 "rounds");
      header = true;
    }
    const Metric& m = metrics_.at(bound.metric);
    std::string list;
    for (double v : m.runs) list += (list.empty() ? "" : " ") + FormatValue(v, m.unit);
    bool met = bound.at_most ? *median <= bound.limit : *median >= bound.limit;
    fmt::print(out, "{:<46} {:>8} {:>3}{:>6} {:<6} {}\n", bound.name, FormatValue(*median, m.unit),
               bound.at_most ? "<=" : ">=", FormatValue(bound.limit, m.unit), met ? "met" : "BELOW",
               list);
  }
}

nlohmann::json Results::ToJson() const {
  nlohmann::json out;
  out["figures"] = nlohmann::json::object();
  for (const auto& name : order_) {
    const Metric& m = metrics_.at(name);
    if (m.runs.empty()) continue;
    out["figures"][name] = {{"unit", m.unit}, {"group", m.group}, {"median", MedianOf(m.runs)},
                            {"rounds", m.runs}};
  }
  out["ratios"] = nlohmann::json::array();
  for (const auto& ratio : ratios_) {
    auto runs = RatioRuns(ratio);
    if (runs.empty()) continue;
    double median = MedianOf(runs);
    nlohmann::json entry = {{"name", ratio.name},
                            {"numerator", ratio.numerator},
                            {"denominator", ratio.denominator},
                            {"median", median},
                            {"rounds", runs}};
    if (!std::isnan(ratio.target)) {
      entry["target"] = ratio.target;
      entry["at_most"] = ratio.at_most;
      entry["met"] = ratio.at_most ? median <= ratio.target : median >= ratio.target;
    }
    out["ratios"].push_back(std::move(entry));
  }
  out["bounds"] = nlohmann::json::array();
  for (const auto& bound : bounds_) {
    auto median = Median(bound.metric);
    if (!median) continue;
    out["bounds"].push_back({{"name", bound.name},
                             {"metric", bound.metric},
                             {"median", *median},
                             {"limit", bound.limit},
                             {"at_most", bound.at_most},
                             {"met", bound.at_most ? *median <= bound.limit : *median >= bound.limit}});
  }
  return out;
}

}  // namespace lattice::bench
