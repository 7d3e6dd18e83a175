-- wrk script for `./run.ps1 bench peer` (PeerBench): the same traffic for the site and for the Django peer.
--   BENCH_MODE=login  POST /api/patients/portal/login/ with JSON credentials; BENCH_DATA lines: "access_key password"
--   BENCH_MODE=get    GET PATH with an optional Cookie header;               BENCH_DATA lines: "PATH COOKIE" ("-" = none)
-- Rotates over the lines (the two threads start half-way apart). done() prints one RESULT line that PeerBench parses.

local mode = os.getenv("BENCH_MODE") or "get"
local datafile = os.getenv("BENCH_DATA")

local items = {}
for line in io.lines(datafile) do
  local fields = {}
  for f in line:gmatch("%S+") do fields[#fields + 1] = f end
  if #fields >= 2 then items[#items + 1] = fields end
end
if #items == 0 then error("no data in " .. datafile) end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local idx = 0
function init(args)
  idx = ((tid or 1) - 1) * math.floor(#items / 2)
end

local json_headers = { ["Content-Type"] = "application/json" }

function request()
  idx = idx % #items + 1
  local it = items[idx]
  if mode == "login" then
    local body = string.format('{"access_key":"%s","password":"%s"}', it[1], it[2])
    return wrk.format("POST", "/api/patients/portal/login/", json_headers, body)
  end
  if it[2] == "-" then return wrk.format("GET", it[1]) end
  return wrk.format("GET", it[1], { ["Cookie"] = it[2] })
end

-- wrk itself counts only statuses >= 400; a redirect (an expired session sent to the login page) is a failure too.
non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout))
end
