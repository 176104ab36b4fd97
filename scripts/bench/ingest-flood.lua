-- wrk script for scripts/bench/ingest-flood: GETs with random well-formed tokens (no heartbeat
-- has them), all claiming one client address, at a set pace.
--
--   wrk -t 1 -c C -d Ds -s ingest-flood.lua http://127.0.0.1:PORT -- CLIENT_ADDR DELAY_MS
--
-- DELAY_MS is the pause before each request of a connection (0: as fast as the server answers),
-- so C connections send about C * 1000 / DELAY_MS requests a second.
-- The script has no response() callback on purpose: with one, wrk hands every answer's headers
-- and body to Lua, CPU taken from the cores the real load shares (measured: a few percent more
-- of the flood client's time at 5,000 requests a second). The service's metrics tell its
-- answers apart instead, and wrk counts the non-2xx ones.
-- done() prints "@key=value" lines for the script.

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
-- Prebuilt, so that making the flood costs this machine's CPU little (the service and the real
-- load share it): more than a measured run sends, so no token repeats within the service's
-- few-second memory of unknown tokens.
local POOL = 200000
local requests = {}
local pause = 0
local n = 0

function init(args)
    local headers = { ["Host"] = wrk.headers["Host"], ["X-Forwarded-For"] = args[1],
                      ["User-Agent"] = "lifeline-bench-flood" }
    pause = tonumber(args[2])
    math.randomseed(os.time() * 1000)
    local chars = {}
    for r = 1, POOL do
        for i = 1, 32 do
            local k = math.random(64)
            chars[i] = alphabet:sub(k, k)
        end
        requests[r] = wrk.format("GET", "/api/v1/hb/" .. table.concat(chars), headers, nil)
    end
end

function delay()
    return pause
end

function request()
    n = n % POOL + 1
    return requests[n]
end

function done(summary, latency, requests)
    io.write("@answers=", summary.requests, "\n")
    io.write("@non2xx=", summary.errors.status, "\n")
    io.write("@requests_per_s=", string.format("%.0f", summary.requests / (summary.duration / 1e6)), "\n")
    io.write("@p99_ms=", string.format("%.3f", latency:percentile(99) / 1000), "\n")
end
