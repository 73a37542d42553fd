-- Sends the request bodies of BODIES (one JSON body a line) in turn, as GraphQL POSTs,
-- or with PATHS set, GETs of its paths (one a line, e.g. tiles); each wrk thread starts
-- at its own offset; prints a JSON summary at the end.
local bodies = {}
local get = os.getenv("PATHS") ~= nil
for line in io.lines(os.getenv("PATHS") or os.getenv("BODIES")) do
  bodies[#bodies + 1] = line
end

local counter = 0
setup = function(thread)
  thread:set("offset", counter * 37)
  counter = counter + 1
end

local i = 0
request = function()
  i = i + 1
  local body = bodies[((i + (offset or 0)) % #bodies) + 1]
  if get then
    return wrk.format("GET", body)
  end
  return wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99), latency.max))
end
