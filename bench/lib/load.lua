-- wrk script of `npm run bench` (bench/lib/load.ts writes the targets file and reads the JSON line `done` prints).
-- args: <targets file> <nonce>. Each line of the file: METHOD \t PATH \t TOKEN \t BODY (token and body may be
-- empty). Every request picks a line at random; `{n}` in a body becomes a value unique to this run, thread and
-- request (unique connector tool ids, say).

local targets = {}
local counter = 0
local prefix = ""
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("thread_no", thread_no)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body ~= "" then headers["Content-Type"] = "application/json" end
    -- MCP's Streamable HTTP requires a POST to accept both (bench/mcp.ts).
    if path == "/mcp" then headers["Accept"] = "application/json, text/event-stream" end
    table.insert(targets, { method = method, path = path, headers = headers, body = body })
  end
  f:close()
  local n = tonumber(thread_no) or 1
  math.randomseed(os.time() * 1000 + n)
  prefix = (args[2] or "r") .. "t" .. n .. "x"
end

function request()
  local t = targets[math.random(#targets)]
  if t.body == "" then
    return wrk.format(t.method, t.path, t.headers, nil)
  end
  counter = counter + 1
  local body = t.body:gsub("{n}", prefix .. counter)
  return wrk.format(t.method, t.path, t.headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
