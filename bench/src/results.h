// The figures of a benchmark run: each metric collects one value per round, is reported as
// its median, and ratios are taken within a round (numerator and denominator measured
// minutes apart under the same load) before their median is taken.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lattice::bench {

struct Ratio {
  std::string name;
  std::string numerator;    // metric names
  std::string denominator;
  double target = 0;        // the ratio must be at least this (<= when at_most); NaN: none
  bool at_most = false;
};

// A limit a figure must keep by itself (a latency bound), judged on its median.
struct Bound {
  std::string name;
  std::string metric;
  double limit = 0;
  bool at_most = true;
};

// Not thread-safe.
class Results {
 public:
  // Declares a metric (its order of declaration is the order of the table).
  void Declare(const std::string& metric, const std::string& unit, const std::string& group);
  // Appends this round's value of `metric` (declared or not).
  void Add(const std::string& metric, double value);
  bool Declared(const std::string& metric) const { return metrics_.count(metric) > 0; }
  void AddRatio(Ratio ratio) { ratios_.push_back(std::move(ratio)); }
  void AddBound(Bound bound) { bounds_.push_back(std::move(bound)); }

  std::optional<double> Median(const std::string& metric) const;
  const std::vector<double>& Runs(const std::string& metric) const;

  // Per-round ratios (rounds where both figures exist), and their median.
  std::vector<double> RatioRuns(const Ratio& ratio) const;

  void Print(std::FILE* out) const;
  nlohmann::json ToJson() const;

 private:
  void PrintBounds(std::FILE* out) const;

  struct Metric {
    std::string unit;
    std::string group;
    std::vector<double> runs;
  };
  std::vector<std::string> order_;
  std::map<std::string, Metric> metrics_;
  std::vector<Ratio> ratios_;
  std::vector<Bound> bounds_;
};

double MedianOf(std::vector<double> values);

}  // namespace lattice::bench
