#include "jepsen_tests/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace jepsen {
namespace {

// Chart geometry in SVG user units; the SVG scales to the window's width (viewBox).
constexpr int kWidth = 1000, kHeight = 240, kLeft = 64, kRight = 16, kTop = 24, kBottom = 36;
constexpr int kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;

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

// A step of 1, 2 or 5 times a power of ten that cuts [0, max] into about `ticks` parts.
double nice_step(double max, int ticks) {
  if (!(max > 0)) return 1;
  const double raw = max / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
}

// The x axis: time since the first op, in buckets for the series.
struct Timeline {
  int64_t origin_ns = 0, end_ns = 1;
  int64_t bucket_ns = 1'000'000'000;
  size_t buckets = 1;
  double x(int64_t t_ns) const {
    const double span = static_cast<double>(std::max<int64_t>(end_ns - origin_ns, 1));
    const int64_t clamped = std::clamp(t_ns, origin_ns, end_ns);
    return kLeft + kPlotWidth * static_cast<double>(clamped - origin_ns) / span;
  }
  double seconds(int64_t t_ns) const { return static_cast<double>(t_ns - origin_ns) / 1e9; }
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

// The y axis: from zero to a tick at or above the largest value.
struct YAxis {
  double step = 1, max = 1;
  double y(double v) const { return kTop + kPlotHeight * (1.0 - v / max); }
};

YAxis make_y_axis(double largest) {
  YAxis a;
  a.step = nice_step(largest, 4);
  a.max = std::max(a.step, std::ceil(largest / a.step) * a.step);
  return a;
}

std::string polyline(const Timeline& tl, const YAxis& axis, const std::vector<double>& ys,
                     const std::string& css_class, const std::string& color) {
  std::string points;
  for (size_t i = 0; i < ys.size(); ++i) {
    const double x = tl.x(tl.origin_ns + static_cast<int64_t>(i) * tl.bucket_ns + tl.bucket_ns / 2);
    points += fmt::format("{:.1f},{:.1f} ", x, axis.y(ys[i]));
  }
  return fmt::format(
      "<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
      css_class, color, points);
}

// Grid lines and labelled ticks: seconds from 0 on x, `unit` from 0 on y.
std::string axes(const Timeline& tl, const YAxis& axis, const std::string& unit) {
  std::string svg;
  for (int i = 0; i * axis.step <= axis.max * (1 + 1e-9); ++i) {
    const double v = i * axis.step;
    svg += fmt::format(
        "<line class=\"ytick\" x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" "
        "stroke=\"#ddd\"/><text x=\"{3}\" y=\"{4:.1f}\" font-size=\"11\" "
        "text-anchor=\"end\">{5:g}</text>\n",
        kLeft, axis.y(v), kWidth - kRight, kLeft - 6, axis.y(v) + 4, v);
  }
  const double span_s = tl.seconds(tl.end_ns);
  const double step_s = nice_step(span_s, 10);
  for (int i = 0; i * step_s <= span_s; ++i) {
    const double x = kLeft + kPlotWidth * (i * step_s) / std::max(span_s, 1e-9);
    svg += fmt::format(
        "<line class=\"xtick\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
        "stroke=\"#ddd\"/><text x=\"{0:.1f}\" y=\"{3}\" font-size=\"11\" "
        "text-anchor=\"middle\">{4:g} s</text>\n",
        x, kTop, kHeight - kBottom + 4, kHeight - kBottom + 16, i * step_s);
  }
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"#333\"/>\n"
      "<text x=\"4\" y=\"{1}\" font-size=\"11\" dy=\"-8\">{4}</text>\n"
      "<text x=\"{3}\" y=\"{5}\" font-size=\"11\" text-anchor=\"end\">time since the first op"
      "</text>\n",
      kLeft, kTop, kHeight - kBottom, kWidth - kRight, escape_html(unit), kHeight - 4);
  return svg;
}

// Each fault period shaded, numbered as in the fault table ("#2 kill-leader" where it fits,
// "#2" where not), its tooltip saying what it did.
std::string fault_rects(const Timeline& tl, const std::vector<FaultPeriod>& faults) {
  std::string svg;
  for (size_t i = 0; i < faults.size(); ++i) {
    const FaultPeriod& f = faults[i];
    const double x0 = tl.x(f.start_ns), x1 = tl.x(f.end_ns);
    if (x1 <= x0) continue;
    const std::string tip = fmt::format(
        "{}: {:.1f} s .. {}{}{}", f.name, tl.seconds(f.start_ns),
        f.end_ns == Operation::kNever ? "end" : fmt::format("{:.1f} s", tl.seconds(f.end_ns)),
        f.detail.empty() ? "" : "; ", f.detail);
    svg += fmt::format(
        "<rect class=\"fault\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" "
        "fill=\"#f4a6a6\" fill-opacity=\"0.35\"><title>{}</title></rect>\n",
        x0, kTop, x1 - x0, kPlotHeight, escape_html(tip));
    std::string label = fmt::format("#{} {}", i + 1, f.name);
    if (x1 - x0 < 5.5 * static_cast<double>(label.size()) + 4)  // ~5.5 units a character
      label = fmt::format("#{}", i + 1);
    svg += fmt::format(
        "<text class=\"fault-label\" x=\"{:.1f}\" y=\"{}\" font-size=\"10\" "
        "fill=\"#a33\">{}</text>\n",
        x0 + 2, kTop + 10, escape_html(label));
  }
  return svg;
}

std::string anomaly_marker(const Timeline& tl, const CheckResult& result) {
  if (!result.first_anomaly_ns) return "";
  const double x = tl.x(*result.first_anomaly_ns);
  return fmt::format(
      "<g class=\"first-anomaly\"><line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
      "stroke=\"#c00\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>"
      "<text x=\"{0:.1f}\" y=\"{3}\" font-size=\"11\" fill=\"#c00\" text-anchor=\"middle\">"
      "first anomaly</text><title>first anomaly at {4:.3f} s: {5}</title></g>\n",
      x, kTop, kHeight - kBottom, kTop - 4, tl.seconds(*result.first_anomaly_ns),
      escape_html(result.first_anomaly));
}

std::string chart(const Timeline& tl, const ReportInput& input, const std::string& title,
                  const std::string& unit, const YAxis& axis, const std::string& series) {
  return fmt::format(
             "<h2>{}</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
             "class=\"chart\">\n",
             escape_html(title), kWidth, kHeight) +
         fault_rects(tl, input.faults) + axes(tl, axis, unit) + series +
         anomaly_marker(tl, input.result) + "</svg>\n";
}

std::string throughput_chart(const Timeline& tl, const ReportInput& input) {
  std::vector<double> ok(tl.buckets), fail(tl.buckets), info(tl.buckets);
  for (const Operation& op : *input.ops) {
    const int64_t t = op.complete_ns == Operation::kNever ? op.invoke_ns : op.complete_ns;
    const auto b = static_cast<size_t>((t - tl.origin_ns) / tl.bucket_ns);
    (op.ok() ? ok : (op.failed() ? fail : info))[std::min(b, tl.buckets - 1)] += 1;
  }
  const double per_second = 1e9 / static_cast<double>(tl.bucket_ns);
  double largest = 0;
  for (auto* v : {&ok, &fail, &info}) {
    for (double& x : *v) largest = std::max(largest, x *= per_second);
  }
  const YAxis axis = make_y_axis(largest);
  const std::string series = polyline(tl, axis, ok, "series-ok", "#2a7") +
                             polyline(tl, axis, fail, "series-fail", "#c33") +
                             polyline(tl, axis, info, "series-info", "#e90");
  return chart(tl, input,
               "Throughput: ok (green), fail = definitely not applied (red), info = outcome "
               "unknown (orange)",
               "ops/s", axis, series);
}

std::string latency_chart(const Timeline& tl, const ReportInput& input) {
  std::vector<std::vector<int64_t>> lat(tl.buckets);
  for (const Operation& op : *input.ops) {
    if (!op.ok()) continue;
    const auto b = static_cast<size_t>((op.invoke_ns - tl.origin_ns) / tl.bucket_ns);
    lat[std::min(b, tl.buckets - 1)].push_back(op.complete_ns - op.invoke_ns);
  }
  std::vector<double> p50(tl.buckets), p99(tl.buckets);
  double largest = 0;
  for (size_t i = 0; i < tl.buckets; ++i) {
    p50[i] = percentile(lat[i], 0.5) / 1e6;
    p99[i] = percentile(lat[i], 0.99) / 1e6;
    largest = std::max(largest, p99[i]);
  }
  const YAxis axis = make_y_axis(largest);
  const std::string series =
      polyline(tl, axis, p50, "series-p50", "#36c") + polyline(tl, axis, p99, "series-p99", "#93c");
  return chart(tl, input, "Latency of ok ops: p50 (blue), p99 (purple)", "ms", axis, series);
}

const char* outcome_color(Outcome outcome) {
  switch (outcome) {
    case Outcome::kValid:
      return "#2a7";
    case Outcome::kFailedCheck:
      return "#c33";
    case Outcome::kFailedError:
      return "#b50";
    case Outcome::kUnknown:
      return "#e90";
  }
  return "#333";
}

std::string list_html(const std::string& css_class, const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string html = "<ul class=\"" + css_class + "\">\n";
  for (const auto& item : items) html += "<li>" + escape_html(item) + "</li>\n";
  return html + "</ul>\n";
}

std::string header_html(const Timeline& tl, const ReportInput& input, const Json& summary) {
  const Outcome outcome = run_outcome(input.result, input.errors);
  std::string html = fmt::format(
      "<h1>{}</h1>\n<p class=\"verdict\">Verdict: <b style=\"color:{}\">{}</b> "
      "(workload {})</p>\n<p>{}</p>\n",
      escape_html(input.title), outcome_color(outcome), outcome_words(outcome),
      escape_html(input.workload), escape_html(input.result.explanation));
  html += list_html("errors", input.errors);
  if (input.result.first_anomaly_ns) {
    html += fmt::format("<p class=\"first-anomaly\">First anomaly at {:.3f} s: {}</p>\n",
                        tl.seconds(*input.result.first_anomaly_ns),
                        escape_html(input.result.first_anomaly));
  }
  html += fmt::format(
      "<p>{} ops ({} ok, {} fail, {} info) over {:.1f} s; ok latency p50 {:.2f} ms, p99 {:.2f} "
      "ms; {} fault periods (shaded).</p>\n",
      summary.find_i64("ops").value_or(0), summary.find_i64("ok").value_or(0),
      summary.find_i64("fail").value_or(0), summary.find_i64("info").value_or(0),
      summary.find("duration_s")->number_as_double(),
      summary.find("latency_p50_ms")->number_as_double(),
      summary.find("latency_p99_ms")->number_as_double(), input.faults.size());
  return html + list_html("notes", input.notes);
}

std::string faults_table_html(const Timeline& tl, const std::vector<FaultPeriod>& faults) {
  std::string html =
      "<h2>Faults</h2>\n<table class=\"faults\">\n<tr><th>#</th><th>fault</th><th>from</th>"
      "<th>to</th><th>what it did</th></tr>\n";
  for (size_t i = 0; i < faults.size(); ++i) {
    const FaultPeriod& f = faults[i];
    html +=
        fmt::format("<tr><td>{}</td><td>{}</td><td>{:.3f} s</td><td>{}</td><td>{}</td></tr>\n",
                    i + 1, escape_html(f.name), tl.seconds(f.start_ns),
                    f.end_ns == Operation::kNever ? std::string("end")
                                                  : fmt::format("{:.3f} s", tl.seconds(f.end_ns)),
                    escape_html(f.detail));
  }
  return html + "</table>\n";
}

std::string files_html(const std::vector<std::string>& files) {
  if (files.empty()) return "";
  std::string html = "<h2>Files</h2>\n<ul class=\"files\">\n";
  for (const auto& f : files)
    html += fmt::format("<li><a href=\"{0}\">{0}</a></li>\n", escape_html(f));
  return html + "</ul>\n";
}

}  // namespace

Outcome run_outcome(const CheckResult& result, const std::vector<std::string>& errors) {
  if (result.valid == Validity::kInvalid) return Outcome::kFailedCheck;
  if (!errors.empty()) return Outcome::kFailedError;
  return result.valid == Validity::kUnknown ? Outcome::kUnknown : Outcome::kValid;
}

std::string_view outcome_words(Outcome outcome) {
  switch (outcome) {
    case Outcome::kValid:
      return "valid";
    case Outcome::kFailedCheck:
      return "failed: check";
    case Outcome::kFailedError:
      return "failed: error";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

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
    faults.push_back({*start, stop_ns.value_or(Operation::kNever), *name,
                      j->find_string("detail").value_or("")});
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
  const double max_ms =
      latencies.empty()
          ? 0.0
          : static_cast<double>(*std::max_element(latencies.begin(), latencies.end())) / 1e6;
  Json s = Json::object();
  s.set("ops", Json::number(ops.size()));
  s.set("ok", Json::number(ok));
  s.set("fail", Json::number(fail));
  s.set("info", Json::number(info));
  s.set("duration_s", Json::number(seconds));
  s.set("ok_per_s", Json::number(static_cast<double>(ok) / seconds));
  s.set("latency_p50_ms", Json::number(percentile(latencies, 0.5) / 1e6));
  s.set("latency_p99_ms", Json::number(percentile(latencies, 0.99) / 1e6));
  s.set("latency_p999_ms", Json::number(percentile(latencies, 0.999) / 1e6));
  s.set("latency_max_ms", Json::number(max_ms));
  return s;
}

Json results_json(const ReportInput& input) {
  ENSURE(input.ops != nullptr);
  const Timeline tl = make_timeline(*input.ops);
  Json j = Json::object();
  j.set("workload", Json::string(input.workload));
  j.set("verdict",
        Json::string(std::string(outcome_words(run_outcome(input.result, input.errors)))));
  const Json check = check_result_to_json(input.result);
  j.set("valid", *check.find("valid"));
  Json errors = Json::array();
  for (const auto& e : input.errors) errors.push_back(Json::string(e));
  j.set("errors", std::move(errors));
  j.set("first_anomaly",
        input.result.first_anomaly_ns
            ? Json::object({{"time_s", Json::number(tl.seconds(*input.result.first_anomaly_ns))},
                            {"time_ns", Json::number(*input.result.first_anomaly_ns)},
                            {"what", Json::string(input.result.first_anomaly)}})
            : Json());
  j.set("check", check);
  j.set("summary", summarize_operations(*input.ops));
  Json faults = Json::array();
  for (const FaultPeriod& f : input.faults) {
    faults.push_back(Json::object(
        {{"name", Json::string(f.name)},
         {"detail", Json::string(f.detail)},
         {"start_ns", Json::number(f.start_ns)},
         {"end_ns", f.end_ns == Operation::kNever ? Json() : Json::number(f.end_ns)}}));
  }
  j.set("faults", std::move(faults));
  j.set("config", input.config);
  return j;
}

std::string render_report_html(const ReportInput& input) {
  ENSURE(input.ops != nullptr);
  const Timeline tl = make_timeline(*input.ops);
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{}</title>\n<style>body{{font-family:sans-serif;margin:20px;max-width:none}}"
      "svg.chart{{width:100%;height:auto;display:block}}"
      "pre{{background:#f6f6f6;padding:8px;overflow:auto}}"
      "table.faults{{border-collapse:collapse}}"
      "table.faults td,table.faults th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}"
      "ul.errors{{color:#b50}}h2{{font-size:1.15em;margin-top:1.4em}}</style>\n"
      "</head><body>\n",
      escape_html(input.title));
  html += header_html(tl, input, summarize_operations(*input.ops));
  html += throughput_chart(tl, input);
  html += latency_chart(tl, input);
  html += faults_table_html(tl, input.faults);
  if (!input.result.counterexample.empty()) {
    html +=
        "<h2>Counterexample</h2>\n<pre>" + escape_html(input.result.counterexample) + "</pre>\n";
  }
  html += "<h2>Checker stats</h2>\n<pre>" + escape_html(input.result.stats.serialize_pretty()) +
          "</pre>\n";
  return html + files_html(input.files) + "</body></html>\n";
}

std::string verdict_line(const ReportInput& input, const std::string& report_path) {
  ENSURE(input.ops != nullptr);
  const Timeline tl = make_timeline(*input.ops);
  const Outcome outcome = run_outcome(input.result, input.errors);
  std::string why;
  switch (outcome) {
    case Outcome::kValid:
      why = fmt::format("no anomaly in {} ops under {} fault periods", input.ops->size(),
                        input.faults.size());
      break;
    case Outcome::kFailedCheck:
      why = input.result.first_anomaly_ns ? fmt::format("first anomaly at {:.1f} s: {}",
                                                        tl.seconds(*input.result.first_anomaly_ns),
                                                        input.result.first_anomaly)
                                          : "the checker found anomalies (see the counterexample)";
      break;
    case Outcome::kFailedError:
      why = input.errors.front();
      break;
    case Outcome::kUnknown:
      why = "the checker could not decide within its budget";
      break;
  }
  return fmt::format("verdict: {} - {}; report: {}", outcome_words(outcome), why, report_path);
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
