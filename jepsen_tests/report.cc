#include "jepsen_tests/report.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace jepsen {
namespace {

constexpr int kWidth = 900, kHeight = 220, kLeft = 60, kRight = 20, kTop = 20, kBottom = 30;

std::string escape_html(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

double percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

struct Timeline {
  int64_t origin_ns = 0, end_ns = 1;
  int64_t bucket_ns = 1'000'000'000;
  size_t buckets = 1;
  double x(int64_t t_ns) const {
    const double span = static_cast<double>(std::max<int64_t>(end_ns - origin_ns, 1));
    return kLeft + (kWidth - kLeft - kRight) * static_cast<double>(t_ns - origin_ns) / span;
  }
};

Timeline make_timeline(const std::vector<Operation>& ops) {
  Timeline tl;
  if (ops.empty()) return tl;
  tl.origin_ns = ops.front().invoke_ns;
  tl.end_ns = tl.origin_ns + 1;
  for (const Operation& op : ops) {
    tl.origin_ns = std::min(tl.origin_ns, op.invoke_ns);
    tl.end_ns =
        std::max(tl.end_ns, op.complete_ns == Operation::kNever ? op.invoke_ns : op.complete_ns);
  }
  // About 100 buckets, at least 1 ms each.
  tl.bucket_ns = std::max<int64_t>((tl.end_ns - tl.origin_ns) / 100, 1'000'000);
  tl.buckets = static_cast<size_t>((tl.end_ns - tl.origin_ns) / tl.bucket_ns + 1);
  return tl;
}

std::string polyline(const Timeline& tl, const std::vector<double>& ys, double y_max,
                     const std::string& css_class, const std::string& color) {
  std::string points;
  for (size_t i = 0; i < ys.size(); ++i) {
    const double x = tl.x(tl.origin_ns + static_cast<int64_t>(i) * tl.bucket_ns + tl.bucket_ns / 2);
    const double y = kTop + (kHeight - kTop - kBottom) * (1.0 - ys[i] / std::max(y_max, 1e-9));
    points += fmt::format("{:.1f},{:.1f} ", x, y);
  }
  return fmt::format(
      "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
      css_class, color, points);
}

std::string chart(const Timeline& tl, const std::vector<FaultPeriod>& faults,
                  const std::string& title, const std::string& unit, double y_max,
                  const std::string& series) {
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" class=\"chart\">\n"
      "<text x=\"{}\" y=\"14\" font-size=\"13\">{}</text>\n",
      kWidth, kHeight, kLeft, escape_html(title));
  for (const FaultPeriod& f : faults) {
    const double x0 = tl.x(std::max(f.start_ns, tl.origin_ns));
    const double x1 = tl.x(std::min(f.end_ns, tl.end_ns));
    if (x1 <= x0) continue;
    svg += fmt::format(
        "<rect class=\"fault\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
        "fill=\"#f4a6a6\" fill-opacity=\"0.35\"><title>{}</title></rect>\n",
        x0, kTop, x1 - x0, kHeight - kTop - kBottom, escape_html(f.name));
  }
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"#333\"/>\n",
      kLeft, kTop, kHeight - kBottom, kWidth - kRight);
  svg += fmt::format("<text x=\"4\" y=\"{}\" font-size=\"11\">{:.4g} {}</text>\n", kTop + 10, y_max,
                     unit);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{:.1f} s</text>\n",
                     kWidth - kRight - 40, kHeight - 8,
                     static_cast<double>(tl.end_ns - tl.origin_ns) / 1e9);
  return svg + series + "</svg>\n";
}

std::string throughput_chart(const Timeline& tl, const std::vector<Operation>& ops,
                             const std::vector<FaultPeriod>& faults) {
  std::vector<double> ok(tl.buckets), fail(tl.buckets), info(tl.buckets);
  for (const Operation& op : ops) {
    const int64_t t = op.complete_ns == Operation::kNever ? op.invoke_ns : op.complete_ns;
    const auto b = static_cast<size_t>((t - tl.origin_ns) / tl.bucket_ns);
    (op.ok() ? ok : (op.failed() ? fail : info))[std::min(b, tl.buckets - 1)] += 1;
  }
  const double per_second = 1e9 / static_cast<double>(tl.bucket_ns);
  double y_max = 0;
  for (auto* v : {&ok, &fail, &info}) {
    for (double& x : *v) y_max = std::max(y_max, x *= per_second);
  }
  const std::string series = polyline(tl, ok, y_max, "series-ok", "#2a7") +
                             polyline(tl, fail, y_max, "series-fail", "#c33") +
                             polyline(tl, info, y_max, "series-info", "#e90");
  return chart(tl, faults, "Throughput (ops/s): ok green, fail red, info orange", "ops/s", y_max,
               series);
}

std::string latency_chart(const Timeline& tl, const std::vector<Operation>& ops,
                          const std::vector<FaultPeriod>& faults) {
  std::vector<std::vector<int64_t>> lat(tl.buckets);
  for (const Operation& op : ops) {
    if (!op.ok()) continue;
    const auto b = static_cast<size_t>((op.invoke_ns - tl.origin_ns) / tl.bucket_ns);
    lat[std::min(b, tl.buckets - 1)].push_back(op.complete_ns - op.invoke_ns);
  }
  std::vector<double> p50(tl.buckets), p99(tl.buckets);
  double y_max = 0;
  for (size_t i = 0; i < tl.buckets; ++i) {
    p50[i] = percentile(lat[i], 0.5) / 1e6;
    p99[i] = percentile(lat[i], 0.99) / 1e6;
    y_max = std::max(y_max, p99[i]);
  }
  const std::string series = polyline(tl, p50, y_max, "series-p50", "#36c") +
                             polyline(tl, p99, y_max, "series-p99", "#93c");
  return chart(tl, faults, "Latency of ok ops (ms): p50 blue, p99 purple", "ms", y_max, series);
}

}  // namespace

base::Result<std::vector<FaultPeriod>> parse_faults(std::string_view jsonl) {
  std::vector<FaultPeriod> faults;
  size_t line_number = 0;
  while (!jsonl.empty()) {
    ++line_number;
    const size_t end = jsonl.find('\n');
    const std::string_view line = jsonl.substr(0, end);
    jsonl = end == std::string_view::npos ? std::string_view() : jsonl.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto j = Json::parse(line);
    if (!j.is_ok())
      return base::invalid_argument("faults line {}: {}", line_number, j.status().message());
    const auto start = j->find_i64("start_ns");
    const auto name = j->find_string("name");
    const Json* stop = j->find("end_ns");
    const auto stop_ns = stop == nullptr ? std::nullopt : stop->number_as_i64();
    if (!start || !name || stop == nullptr || !(stop_ns || stop->is_null())) {
      return base::invalid_argument("faults line {}: needs start_ns, end_ns (or null) and name",
                                    line_number);
    }
    faults.push_back({*start, stop_ns.value_or(Operation::kNever), *name});
  }
  return faults;
}

base::Result<std::vector<FaultPeriod>> read_faults_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::Status(base::Code::kNotFound, fmt::format("cannot open {}", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_faults(buffer.str());
}

Json summarize_operations(const std::vector<Operation>& ops) {
  int64_t ok = 0, fail = 0, info = 0;
  std::vector<int64_t> latencies;
  int64_t first = 0, last = 0;
  for (const Operation& op : ops) {
    ok += op.ok();
    fail += op.failed();
    info += op.indeterminate();
    if (op.ok()) latencies.push_back(op.complete_ns - op.invoke_ns);
    first = first == 0 ? op.invoke_ns : std::min(first, op.invoke_ns);
    if (op.complete_ns != Operation::kNever) last = std::max(last, op.complete_ns);
  }
  const double seconds = static_cast<double>(std::max<int64_t>(last - first, 1)) / 1e9;
  Json s = Json::object();
  s.set("ops", Json::number(static_cast<int64_t>(ops.size())));
  s.set("ok", Json::number(ok));
  s.set("fail", Json::number(fail));
  s.set("info", Json::number(info));
  s.set("duration_s", Json::number(seconds));
  s.set("ok_per_s", Json::number(static_cast<double>(ok) / seconds));
  s.set("latency_p50_ms", Json::number(percentile(latencies, 0.5) / 1e6));
  s.set("latency_p99_ms", Json::number(percentile(latencies, 0.99) / 1e6));
  s.set("latency_p999_ms", Json::number(percentile(latencies, 0.999) / 1e6));
  s.set("latency_max_ms",
        Json::number(latencies.empty() ? 0.0
                                       : static_cast<double>(*std::max_element(latencies.begin(),
                                                                               latencies.end())) /
                                             1e6));
  return s;
}

Json results_json(const ReportInput& input) {
  ENSURE(input.ops != nullptr);
  Json j = Json::object();
  j.set("workload", Json::string(input.workload));
  const Json check = check_result_to_json(input.result);
  j.set("valid", *check.find("valid"));
  j.set("check", check);
  j.set("summary", summarize_operations(*input.ops));
  Json faults = Json::array();
  for (const FaultPeriod& f : input.faults) {
    Json fj = Json::object();
    fj.set("name", Json::string(f.name));
    fj.set("start_ns", Json::number(f.start_ns));
    fj.set("end_ns", f.end_ns == Operation::kNever ? Json() : Json::number(f.end_ns));
    faults.push_back(fj);
  }
  j.set("faults", faults);
  j.set("config", input.config);
  return j;
}

std::string render_report_html(const ReportInput& input) {
  ENSURE(input.ops != nullptr);
  const Timeline tl = make_timeline(*input.ops);
  const Json summary = summarize_operations(*input.ops);
  const char* color = input.result.valid == Validity::kValid
                          ? "#2a7"
                          : (input.result.valid == Validity::kInvalid ? "#c33" : "#e90");
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title>\n"
      "<style>body{{font-family:sans-serif;margin:20px}}pre{{background:#f6f6f6;padding:8px;"
      "overflow:auto}}</style>\n"
      "</head><body>\n<h1>{0}</h1>\n<p>Workload <b>{1}</b>. Verdict: <b style=\"color:{2}\">valid "
      "= {3}</b></p>\n"
      "<p>{4}</p>\n",
      escape_html(input.title), escape_html(input.workload), color,
      validity_name(input.result.valid), escape_html(input.result.explanation));
  html += fmt::format(
      "<p>{} ops ({} ok, {} fail, {} info) over {:.1f} s; ok latency p50 {:.2f} ms, p99 {:.2f} ms. "
      "Shaded: fault periods ({}).</p>\n",
      summary.find_i64("ops").value_or(0), summary.find_i64("ok").value_or(0),
      summary.find_i64("fail").value_or(0), summary.find_i64("info").value_or(0),
      summary.find("duration_s")->number_as_double(),
      summary.find("latency_p50_ms")->number_as_double(),
      summary.find("latency_p99_ms")->number_as_double(), input.faults.size());
  html += throughput_chart(tl, *input.ops, input.faults);
  html += latency_chart(tl, *input.ops, input.faults);
  if (!input.result.counterexample.empty()) {
    html +=
        "<h2>Counterexample</h2>\n<pre>" + escape_html(input.result.counterexample) + "</pre>\n";
  }
  html += "<h2>Checker stats</h2>\n<pre>" + escape_html(input.result.stats.serialize_pretty()) +
          "</pre>\n";
  html += "<h2>Faults</h2>\n<ul>\n";
  for (const FaultPeriod& f : input.faults) {
    html += fmt::format(
        "<li>{}: {:.3f} s .. {}</li>\n", escape_html(f.name),
        static_cast<double>(f.start_ns - tl.origin_ns) / 1e9,
        f.end_ns == Operation::kNever
            ? std::string("end")
            : fmt::format("{:.3f} s", static_cast<double>(f.end_ns - tl.origin_ns) / 1e9));
  }
  return html + "</ul>\n</body></html>\n";
}

base::Status write_report(const std::string& dir, const ReportInput& input) {
  const auto write = [](const std::string& path, const std::string& text) -> base::Status {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return base::Status(base::Code::kIoError, fmt::format("cannot write {}", path));
    return base::Status::ok();
  };
  RETURN_IF_ERROR(write(dir + "/results.json", results_json(input).serialize_pretty()));
  return write(dir + "/report.html", render_report_html(input));
}

}  // namespace jepsen
