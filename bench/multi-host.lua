-- Run by bench/multi-host (read its header). Rounds alternate between a 3-node etcd cluster on
-- one engine and one with a node on each of three hosts; each round times create + start (all
-- ready), 10 execs of `true` in node3, and 5 log waits in node3: a line written by an exec to
-- the node's own output, then `n:wait_log` returning it (so it includes one exec). node3 is on
-- an inner engine in the spread cluster.
local hosts = {
  h1 = assert(os.getenv("BENCH_MANAGER")),
  h2 = assert(os.getenv("BENCH_HOST1")),
  h3 = assert(os.getenv("BENCH_HOST2")),
}
local rounds = tonumber(os.getenv("ROUNDS") or "5")
local prefix = assert(os.getenv("BENCH_NAME"))

local samples = { one = { start = {}, exec = {}, wait = {} }, three = { start = {}, exec = {}, wait = {} } }

local function round(label, r)
  local spec = { name = ("%s-%s-%d"):format(prefix, label, r), profile = "etcd", nodes = 3 }
  if label == "three" then spec.hosts = hosts end
  local s = samples[label]
  local t0 = now()
  local c = cluster.create(spec)
  c:start()
  s.start[#s.start + 1] = now() - t0
  local n = c:node(3)
  for _ = 1, 10 do
    local t = now()
    n:exec({ "true" })
    s.exec[#s.exec + 1] = now() - t
  end
  for i = 1, 5 do
    local mark = n:mark_log()
    local t = now()
    n:exec({ "sh", "-c", "echo bench-line-" .. i .. " > /proc/1/fd/1" })
    n:wait_log("bench-line-" .. i, { from = mark, plain = true })
    s.wait[#s.wait + 1] = now() - t
  end
  c:remove()
end

for r = 1, rounds do
  -- The order turns each round, so a busy moment hits both alike.
  if r % 2 == 1 then round("one", r); round("three", r) else round("three", r); round("one", r) end
end

local function stats(t, scale, unit)
  table.sort(t)
  return ("median %6.2f %s  (min %.2f, max %.2f, n %d)"):format(t[(#t + 1) // 2] * scale, unit, t[1] * scale, t[#t] * scale, #t)
end
for _, label in ipairs { "one", "three" } do
  local s = samples[label]
  local what = label == "one" and "3 nodes on 1 engine " or "3 nodes on 3 hosts  "
  print(("%s create+start   %s"):format(what, stats(s.start, 1, "s")))
  print(("%s exec node3     %s"):format(what, stats(s.exec, 1000, "ms")))
  print(("%s exec+wait_log  %s"):format(what, stats(s.wait, 1000, "ms")))
end
