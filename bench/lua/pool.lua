-- wrk script of `make bench`: one request per line of a pool file.
--
--   wrk -t1 -c4 -d10s --latency -s bench/lua/pool.lua URL -- METHOD KIND FILE MODE NTHREADS
--
-- KIND  "none"   no body (GET URL)
--       "body"   each line is a JSON body (POST URL, Content-Type: application/json)
--       "bearer" each line is an access token (GET URL, Authorization: Bearer <line>)
-- MODE  "cycle"  go round the pool again when it ends
--       "once"   each line is used at most once (refresh tokens, one-time codes); when
--                a thread runs out it stops and the run is reported as "exhausted"
--
-- Thread t of n takes lines t+1, t+1+n, ... so "once" pools never overlap.
-- Every response that is not a 200 counts as an error; the first one is kept
-- (status and start of the body) so a failing endpoint can be reported.
-- done() prints one line "BENCH_JSON {...}" that the driver parses.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- per-thread state (each wrk thread has its own Lua state)
local reqs = {}
local n = 0
local idx = 0
local mode = "cycle"
local fallback = nil
bad = 0
exhausted = 0
first_bad = ""

function init(args)
  local method, kind, file = args[1], args[2], args[3]
  mode = args[4] or "cycle"
  local nthreads = tonumber(args[5] or "1")
  local path = wrk.path
  if kind == "none" then
    n = 1
    reqs[1] = wrk.format(method, path, {}, nil)
  else
    local i = 0
    for line in io.lines(file) do
      if #line > 0 then
        if i % nthreads == tid then
          n = n + 1
          if kind == "body" then
            reqs[n] = wrk.format(method, path, { ["Content-Type"] = "application/json" }, line)
          else
            reqs[n] = wrk.format(method, path, { ["Authorization"] = "Bearer " .. line }, nil)
          end
        end
        i = i + 1
      end
    end
  end
  if n == 0 then
    error("empty pool: " .. tostring(file))
  end
  -- Sent only once a "once" pool has run out, while the thread stops.
  fallback = wrk.format("GET", "/healthz", {}, nil)
end

function request()
  if idx >= n then
    if mode == "once" then
      exhausted = 1
      wrk.thread:stop()
      return fallback
    end
    idx = 0
  end
  idx = idx + 1
  return reqs[idx]
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 400)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local non200, ran_out, first = 0, 0, ""
  for _, t in ipairs(threads) do
    non200 = non200 + (t:get("bad") or 0)
    ran_out = ran_out + (t:get("exhausted") or 0)
    local fb = t:get("first_bad") or ""
    if first == "" and fb ~= "" then first = fb end
  end
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"non200": %d, "exhausted": %d, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
      .. '"first_bad": %s}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    non200, ran_out,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    json_string(first)
  )
  io.write("BENCH_JSON " .. out .. "\n")
end
