-- wrk script for scripts/bench/ingest: pings spread over many heartbeats, GET and POST alternated.
--
--   wrk -t T -c C -d (MEASURE + DRAIN)s -s ingest.lua http://127.0.0.1:PORT -- TOKENS_FILE MEASURE
--
-- Why the "drain": wrk simply drops the requests in flight when its duration ends, and the
-- service may still commit those pings, so "rows stored == 200 answers" could never be checked
-- exactly. Instead each thread sends pings for MEASURE seconds only; after that, delay() parks
-- every connection (it sends nothing more) while the pings still in flight get their answers
-- during the remaining DRAIN seconds of the wrk run. So every ping sent is answered (or counted
-- as unanswered), and throughput is counted only for answers received within the MEASURE window.
--
-- wrk gives each thread its own Lua state and done() only the global summary, so per-thread
-- counters are read back with the setup(thread) / thread:get() pattern.
--
-- done() prints "@key=value" lines that scripts/bench/ingest parses.

local ffi = require("ffi")
-- os.time() has a 1 s resolution; the measured window needs milliseconds (wrk runs LuaJIT).
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")
local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- ---------------------------------------------------------------- main state (setup/done)
local threads = {}

function setup(thread)
    thread:set("id", #threads + 1)
    table.insert(threads, thread)
end

-- ---------------------------------------------------------------- thread states
local requests = {}     -- prebuilt raw requests: building them per request would cost wrk CPU
local deadline = nil    -- end of the measured window, set when this thread sends its first ping
local n = 0             -- requests generated so far (selects GET/POST alternately)

-- Read by done() (globals, so that thread:get() can see them).
measure_ms = 0
sent = 0                -- pings sent
answered = 0            -- pings answered (within the window or during the drain)
ok_window = 0           -- 200 answers received within the measured window
ok_total = 0            -- all 200 answers: what must be in the database
status_window = {}      -- non-200 status -> count, within the window
status_total = {}       -- non-200 status -> count, whole run

function init(args)
    local file = args[1]
    measure_ms = tonumber(args[2]) * 1000
    local host = wrk.headers["Host"]
    local post_headers = { ["Host"] = host, ["Content-Type"] = "text/plain",
                           ["User-Agent"] = "lifeline-bench" }
    local get_headers = { ["Host"] = host, ["User-Agent"] = "lifeline-bench" }
    for token in io.lines(file) do
        if #token > 0 then
            local path = "/api/v1/hb/" .. token
            table.insert(requests, wrk.format("GET", path, get_headers, nil))
            -- A small body, as a job reporting a line of output would send.
            table.insert(requests, wrk.format("POST", path, post_headers, "bench: job done\n"))
        end
    end
    if #requests == 0 then
        error("no tokens in " .. tostring(file))
    end
    math.randomseed(os.time() * 1000 + (id or 0) * 7919)
end

-- Called before every request a connection sends: 0 while measuring; afterwards park the
-- connection for longer than the whole run so it never sends again (wrk ends the run at its
-- duration). Pings are counted here rather than in request() because wrk also calls request()
-- once at start-up just to validate it; every delay() that returns 0 is followed by exactly one
-- request sent.
function delay()
    local now = now_ms()
    if not deadline then
        deadline = now + measure_ms
    elseif now >= deadline then
        return 3600 * 1000
    end
    sent = sent + 1
    return 0
end

function request()
    n = n + 1
    -- A random heartbeat per ping (so pings spread over all of them), GET and POST alternately.
    local token = math.random(#requests / 2)
    return requests[2 * token - (n % 2)]
end

function response(status, headers, body)
    answered = answered + 1
    local in_window = now_ms() < deadline
    if status == 200 then
        ok_total = ok_total + 1
        if in_window then ok_window = ok_window + 1 end
    else
        status_total[status] = (status_total[status] or 0) + 1
        if in_window then
            status_window[status] = (status_window[status] or 0) + 1
        end
    end
end

-- ---------------------------------------------------------------- report (main state)
local function merge(into, from)
    for k, v in pairs(from or {}) do into[k] = (into[k] or 0) + v end
end

local function format_statuses(t)
    local keys = {}
    for k in pairs(t) do table.insert(keys, k) end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do table.insert(parts, k .. ":" .. t[k]) end
    return table.concat(parts, ",")
end

function done(summary, latency, requests)
    local t = { sent = 0, answered = 0, ok_window = 0, ok_total = 0 }
    local sw, st = {}, {}
    local measure_s = 0
    for _, thread in ipairs(threads) do
        for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
        merge(sw, thread:get("status_window"))
        merge(st, thread:get("status_total"))
        measure_s = thread:get("measure_ms") or 0
    end
    local non200_window, non200_total = 0, 0
    for _, v in pairs(sw) do non200_window = non200_window + v end
    for _, v in pairs(st) do non200_total = non200_total + v end
    local e = summary.errors
    local socket_errors = e.connect + e.read + e.write + e.timeout
    local out = {
        threads = #threads,
        measure_s = measure_s / 1000,
        sent = t.sent,
        answered = t.answered,
        unanswered = t.sent - t.answered,
        ok_window = t.ok_window,
        ok_total = t.ok_total,
        non200_window = non200_window,
        non200_total = non200_total,
        statuses_window = format_statuses(sw),
        statuses_total = format_statuses(st),
        socket_errors = socket_errors,
        socket_errors_detail = string.format("connect:%d,read:%d,write:%d,timeout:%d",
            e.connect, e.read, e.write, e.timeout),
        -- wrk's latency histogram covers every answered ping (window and drain), in microseconds.
        p50_ms = string.format("%.3f", latency:percentile(50) / 1000),
        p90_ms = string.format("%.3f", latency:percentile(90) / 1000),
        p99_ms = string.format("%.3f", latency:percentile(99) / 1000),
        max_ms = string.format("%.3f", latency.max / 1000),
        pings_per_s = string.format("%.0f", t.ok_window / (measure_s / 1000)),
    }
    local keys = {}
    for k in pairs(out) do table.insert(keys, k) end
    table.sort(keys)
    for _, k in ipairs(keys) do io.write("@", k, "=", tostring(out[k]), "\n") end
end
