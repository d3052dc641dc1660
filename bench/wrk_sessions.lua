-- wrk script of the dashboard benchmark.
--   wrk -t2 -c16 -d15s -s bench/wrk_sessions.lua http://127.0.0.1:PORT/path -- COOKIE_FILE [THINK_MS]
-- COOKIE_FILE holds one "sessionid=…" per line: requests take them round-robin (each thread
-- starts at its own offset), so 16 logged-in sessions share the 16 connections.
-- THINK_MS (default 0): pause of each connection between a response and its next request.
-- done() prints one JSON line (prefixed @@WRK@@) with counts and latency percentiles in µs.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(cookies, line)
    end
  end
  counter = (tid or 0) * 7 + 1
  think = tonumber(args[2] or "0") or 0
end

function delay()
  return think
end

function request()
  local cookie = cookies[(counter % #cookies) + 1]
  counter = counter + 1
  return wrk.format("GET", nil, { ["Cookie"] = cookie })
end

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
