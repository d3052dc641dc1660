-- wrk script of the click benchmark: plain GETs as a browser following a tracking link sends
-- them (a user agent and a referrer, no cookie). done() prints the same @@WRK@@ JSON line as
-- wrk_sessions.lua (counts and latency percentiles in µs).
--   wrk -t2 -c16 -d15s -s bench/wrk_plain.lua http://127.0.0.1:PORT/t/CODE

wrk.headers["User-Agent"] = "Mozilla/5.0 (bench; click) AppleWebKit/537.36"
wrk.headers["Referer"] = "https://promoter.example.com/review/best-lamps"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@WRK@@{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
