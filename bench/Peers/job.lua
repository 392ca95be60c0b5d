-- bench/peers' ccm-lua side: one round of one job, written as a user would write it.
-- Everything comes from the environment (bench/peers sets it); each phase's time goes to stdout
-- as "PHASE SECONDS", measured inside the script on the monotonic clock.
--   BENCH_JOB    etcd | light | keep (a 1-node etcd kept for the exec job) | execs | follow
--   BENCH_NAME   cluster name        BENCH_NODES  node count      BENCH_IMAGE  image
--   BENCH_COUNT  execs to run        BENCH_FOLLOW seconds to follow the logs (job follow)
--   BENCH_READY  "probe": etcd nodes also run the profile's probe (`etcdctl endpoint health`)
--                after their ready line (the built-in profile counts the line of a start as enough)
local job, name = os.getenv("BENCH_JOB"), os.getenv("BENCH_NAME")
local nodes, image = tonumber(os.getenv("BENCH_NODES") or "1"), os.getenv("BENCH_IMAGE")
local health = { "etcdctl", "--endpoints=http://127.0.0.1:2379", "endpoint", "health" }

local function say(phase, seconds)
  io.stdout:write(("%s %.4f\n"):format(phase, seconds))
  io.stdout:flush()
end

-- The etcd profile, or a copy of it that runs its probe after the ready line too.
local function etcd_profile()
  if os.getenv("BENCH_READY") ~= "probe" then return "etcd" end
  local base, copy = require "ccm.profiles.etcd", {}
  for k, v in pairs(base) do copy[k] = v end
  copy.node = function(node, c)
    local plan = base.node(node, c)
    plan.ready.probe_after_log = true
    return plan
  end
  return copy
end

if job == "etcd" then
  local t0 = now()
  local c = cluster.create { profile = etcd_profile(), image = image, nodes = nodes, name = name }
  local t1 = now()
  c:start { timeout = 120 }
  local t2 = now()
  c:node(1):run(health)
  local t3 = now()
  c:remove()
  local t4 = now()
  say("create", t1 - t0); say("start", t2 - t1)
  say("up", t2 - t0); say("exec", t3 - t2); say("down", t4 - t3)
elseif job == "light" then
  local t0 = now()
  local c = cluster.create { profile = "generic", image = image, nodes = nodes, name = name,
                             command = { "sleep", "infinity" } }
  local t1 = now()
  c:start { timeout = 120 }
  local t2 = now()
  c:remove()
  local t3 = now()
  say("create", t1 - t0); say("start", t2 - t1)
  say("up", t2 - t0); say("down", t3 - t2)
elseif job == "keep" then
  local c = cluster.create { profile = "etcd", image = image, nodes = 1, name = name, keep = true }
  c:start { timeout = 120 }
  c:node(1):run { "etcdctl", "--endpoints=http://127.0.0.1:2379", "put", "k", "v" }
elseif job == "execs" then
  local n = assert(cluster.get(name)):node(1)
  local get = { "etcdctl", "--endpoints=http://127.0.0.1:2379", "get", "k" }
  for _ = 1, tonumber(os.getenv("BENCH_COUNT")) do
    local t0 = now()
    n:run(get)
    say("exec", now() - t0)
  end
elseif job == "follow" then
  local c = cluster.create { profile = "etcd", image = image, nodes = nodes, name = name }
  c:start { timeout = 120 }
  -- bench/peers samples this process's RSS and CPU from here until the sleep ends.
  say("following", 0)
  sleep(tonumber(os.getenv("BENCH_FOLLOW")))
  say("followed", 0)
  c:remove()
else
  error("BENCH_JOB: unknown job '" .. tostring(job) .. "'")
end
