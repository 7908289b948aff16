-- The mixed load of a viral letter, offered at a fixed rate (open loop, as
-- wrk2 paces it): per 100 requests, 90 GETs of the letter page, 5 of its API,
-- 4 sign POSTs (each a new address and its own client address in
-- X-Forwarded-For) and 1 GET of a real confirmation link (read from a file,
-- one path a line, taken in turn).
--
-- Run with one connection per thread (-t N -c N, N = the 2nd argument), so
-- each thread's one request in flight is the one its response() answers.
-- Each thread has its own schedule: request k is due at t0 + k * interval
-- (interval = N / rate; the threads' t0 staggered over one interval), and
-- delay() holds the next request until it is due.  Latency is counted from
-- when a request was DUE, not from when it was sent (coordinated omission:
-- a connection still waiting for a slow answer sends its next request
-- late, and that wait is part of what a client would have seen).  wrk's own
-- histogram counts from the send and is not used.
--
-- Arguments: <rate req/s> <threads> <slug> <email prefix> <origin> <links file>
-- Output (done()): one line `MIXED_JSON {...}`: per kind the answers'
-- latency histogram (bucket b = floor(100 * ln(us)): 1% wide),
-- and per thread its t0, interval, requests sent and answered, for the
-- runner to count the requests due but not answered by the end.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_mixed_timespec;
int clock_gettime(int clk_id, bench_mixed_timespec *tp);
]])
local timespec = ffi.new("bench_mixed_timespec")
local CLOCK_MONOTONIC = 1 -- the clock of Python's time.monotonic()

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + tonumber(timespec.tv_nsec) / 1000
end

-- The mix: 100 slots, 90 page, 5 api, 4 sign, 1 confirm, spread out: the
-- k-th request of thread i (of N) is the (k N + i)-th of the whole load,
-- whose slot is 37 times that mod 100 (the kinds interleave across
-- threads and in time, no run of signs).
local MIX = {}
for s = 0, 99 do
  if s < 4 then MIX[s] = "sign"
  elseif s < 5 then MIX[s] = "confirm"
  elseif s < 10 then MIX[s] = "api"
  else MIX[s] = "page" end
end

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- Per thread (each thread has its own Lua state).
local interval, t0, nthreads = 0, nil, 1
local page, api, sign, prefix, origin = "", "", "", "", ""
local links = {}
local sent, answered, signs, confirms, gets = 0, 0, 0, 0, 0
local due_of, kind_of = 0, "page"
hist = {}    -- "<kind>:<bucket>" -> answers
late = {}    -- bucket of (send - due) -> requests sent late
info = {}    -- what the runner reads back

function init(args)
  local rate = tonumber(args[1])
  nthreads = tonumber(args[2])
  local slug = args[3]
  prefix, origin = args[4], args[5]
  page = "/letters/" .. slug .. "/"
  api = "/api/letters/" .. slug .. "/"
  sign = "/letters/" .. slug .. "/sign/"
  for line in io.lines(args[6]) do
    if line ~= "" then table.insert(links, line) end
  end
  interval = 1000000 * nthreads / rate
end

local function bucket(us)
  if us < 1 then us = 1 end
  return math.floor(100 * math.log(us))
end

local function due(k)
  return t0 + k * interval
end

local function start(now)
  if t0 == nil then
    -- staggered: the threads' schedules interleave instead of firing together
    t0 = now + (id - 1) / nthreads * interval
    info.t0 = t0
    info.interval = interval
  end
end

-- The answer to the request in flight: timed here, when the connection is
-- ready for its next request (wrk calls delay() right after the answer,
-- and after reconnecting: gunicorn's sync workers close every connection;
-- a few tens of microseconds).  No response() function: wrk would then hand
-- every body to Lua, which costs it, on the same cores, more than the
-- server spends on a cached page.  Statuses are wrk's (those above 399
-- are its status errors).
local function answered_now(now)
  if sent > answered then
    local key = kind_of .. ":" .. bucket(now - due_of)
    hist[key] = (hist[key] or 0) + 1
    answered = answered + 1
    info.answered = answered
  end
end

function delay()
  local now = now_us()
  start(now)
  answered_now(now)
  local wait = due(sent) - now
  if wait <= 0 then
    return 0
  end
  return math.ceil(wait / 1000) -- ms, rounded up: never sent early
end

local function xff(n)
  return string.format("%d.%d.%d.%d", 10 + n % 4, id % 256, math.floor(n / 256) % 256, n % 256)
end

function request()
  if t0 == nil then
    -- wrk's own check of the script, before any connection (delay() has not
    -- run yet): a request, counted nowhere
    return wrk.format("GET", page)
  end
  local now = now_us()
  local k = sent
  sent = sent + 1
  info.sent = sent
  due_of = due(k)
  if now > due_of + 1000 then
    local b = bucket(now - due_of)
    late[b] = (late[b] or 0) + 1
  end
  kind_of = MIX[(37 * (k * nthreads + id - 1)) % 100]
  if kind_of == "sign" then
    signs = signs + 1
    local body = string.format(
      "name=Mixed+Signer+%d&email=%s-%d-%d%%40bench.example&job_title=Engineer" ..
      "&team=Engineering&location=Berlin&comment=&display=%s&consent=on&website=",
      signs, prefix, id, signs, (signs % 4 == 0) and "anonymous" or "public")
    return wrk.format("POST", sign, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Origin"] = origin,
      ["Accept-Language"] = "en",
      ["X-Forwarded-For"] = xff(4 * signs),
    }, body)
  end
  gets = gets + 1
  local headers = {["Accept-Language"] = "en", ["X-Forwarded-For"] = xff(4 * gets + 1)}
  if kind_of == "confirm" then
    confirms = confirms + 1
    return wrk.format("GET", links[confirms % #links + 1], headers)
  end
  return wrk.format("GET", kind_of == "api" and api or page, headers)
end

local function json_table(t)
  local parts = {}
  for key, n in pairs(t) do
    table.insert(parts, string.format('"%s": %d', key, n))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local merged, lates, per_thread = {}, {}, {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("hist") or {}) do
      merged[key] = (merged[key] or 0) + n
    end
    for key, n in pairs(thread:get("late") or {}) do
      lates[key] = (lates[key] or 0) + n
    end
    local t = thread:get("info") or {}
    table.insert(per_thread, string.format(
      '{"t0": %.1f, "interval": %.1f, "sent": %d, "answered": %d}',
      t.t0 or 0, t.interval or 0, t.sent or 0, t.answered or 0))
  end
  local e = summary.errors
  io.write(string.format(
    'MIXED_JSON {"ended_us": %.1f, "duration_us": %d, "requests": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"hist": %s, "late": %s, "threads": [%s]}\n',
    now_us(), summary.duration, summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout,
    json_table(merged), json_table(lates), table.concat(per_thread, ", ")))
end
