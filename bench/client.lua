-- bench/client's scenario (run by bench/client): on a 3-node etcd cluster, a linearizable read
-- (POST /v3/kv/range) through `http` — median and p95 of one request after another — and the
-- requests per second of 10 `parallel` branches, next to the same read through `n:exec`
-- (etcdctl) in the same run. Prints one line per figure; exits 1 when a target is missed.
local requests = tonumber(os.getenv("BENCH_REQUESTS") or "1000")
local execs = tonumber(os.getenv("BENCH_EXECS") or "30")
local branches = 10

local c = cluster.create { profile = "etcd", name = os.getenv("BENCH_NAME"), nodes = 3,
                           endpoints = os.getenv("BENCH_ENDPOINTS") or "auto" }
c:start()
local node = c:node(1)
local endpoint = node:endpoint(2379)
local key = http.base64_encode("bench-key")
http.post("http://" .. endpoint .. "/v3/kv/put", { key = key, value = http.base64_encode("bench-value") })
local url = "http://" .. endpoint .. "/v3/kv/range"
local body = json.encode { key = key }
local opts = { headers = { ["content-type"] = "application/json" } }

local function read()
  local r = http.post(url, body, opts)
  assert(r.status == 200 and r:json().kvs, r.body)
end

local function stats(samples)
  table.sort(samples)
  local n = #samples
  local median = n % 2 == 1 and samples[(n + 1) // 2] or (samples[n // 2] + samples[n // 2 + 1]) / 2
  return median * 1000, samples[math.ceil(n * 0.95)] * 1000, samples[1] * 1000, samples[n] * 1000
end

for _ = 1, 50 do read() end   -- warm: the connection, etcd's caches

local latencies = {}
for i = 1, requests do
  local started = now()
  read()
  latencies[i] = now() - started
end

local opened = http.connections_opened()
local started = now()
local per_branch = requests // branches
local work = {}
for b = 1, branches do work[b] = function() for _ = 1, per_branch do read() end end end
parallel(work)
local elapsed = now() - started
local rate = per_branch * branches / elapsed
local connections = http.connections_opened() - opened

local exec_latencies = {}
for i = 1, execs do
  local t = now()
  local out = node:run { "etcdctl", "--endpoints=http://127.0.0.1:2379", "get", "bench-key", "--print-value-only" }
  exec_latencies[i] = now() - t
  assert(out == "bench-value\n", out)
end

local m, p, lo, hi = stats(latencies)
print(("http range      median %6.2f ms  p95 %6.2f ms  (min %.2f, max %.2f, n %d)  %s"):format(m, p, lo, hi, #latencies, endpoint))
print(("http %2d branches %8.0f requests/s  (%d requests in %.2f s, %d new connections)"):format(branches, rate,
  per_branch * branches, elapsed, connections))
local em, ep, elo, ehi = stats(exec_latencies)
print(("exec etcdctl get median %6.2f ms  p95 %6.2f ms  (min %.2f, max %.2f, n %d)"):format(em, ep, elo, ehi, #exec_latencies))
local ok = m < 2 and rate >= 1000
print(("targets: median < 2 ms, >= 1000 requests/s: %s"):format(ok and "ok" or "MISSED"))
c:remove()
os.exit(ok and 0 or 1)
