-- Applies and heals a random-halves partition of N nodes, ROUNDS times, through ccm-lua
-- (c:partition + :heal), and next to it the same rules by hand with the bare tools in the same
-- run: one `nsenter -t PID -n sh -c 'iptables ...'` per node, or one `ENGINE run --rm --network
-- container:NODE --cap-add NET_ADMIN IMAGE sh -c 'iptables ...'` per node, all nodes at once.
-- Prints the medians. Arguments: nodes rounds (environment: CCM_LUA_RUNTIME,
-- CCM_LUA_FAULT_MECHANISM, CCM_LUA_FAULT_IMAGE).
local nodes, rounds = tonumber(arg[1] or "3"), tonumber(arg[2] or "10")
local engine = os.getenv("CCM_LUA_RUNTIME") or "docker"
local image = os.getenv("CCM_LUA_FAULT_IMAGE") or "ccm-lua-test/nettools:bookworm"
local c = cluster.create { profile = "generic", image = "ccm-lua-test/base:bookworm", command = { "sleep", "3600" },
  nodes = nodes }
c:start()
local mechanism = fault.mechanism(c)

local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end

-- By hand: pids, ids and addresses looked up once, outside the timing (someone typing the
-- commands knows them); then per node the shell lines that drop the other side.
local info = {}
for _, n in ipairs(c:nodes()) do
  local r = exec.host({ engine, "inspect", "-f", "{{.State.Pid}} {{.Id}}", c.name .. "-" .. n.name })
  local pid, id = r.stdout:match("(%d+) (%S+)")
  info[n.name] = { pid = pid, id = id, ip = n:ip() }
end

local function by_hand(seed, op)
  local groups = fault.preset_groups(c, "random-halves", seed)
  local side = {}
  for i, g in ipairs(groups) do for _, n in ipairs(g) do side[n] = i end end
  local branches = {}
  for _, n in ipairs(c:nodes()) do
    local lines = {}
    for _, peer in ipairs(c:nodes()) do
      if side[peer.name] ~= side[n.name] then
        lines[#lines + 1] = ("iptables -w %s INPUT -s %s -j DROP -m comment --comment bench"):format(op, info[peer.name].ip)
      end
    end
    local script = table.concat(lines, "\n")
    branches[#branches + 1] = function()
      if mechanism == "nsenter" then
        return exec.host({ "nsenter", "-t", info[n.name].pid, "-n", "sh", "-c", script })
      end
      return exec.host({ engine, "run", "--rm", "--network", "container:" .. info[n.name].id, "--cap-add", "NET_ADMIN",
        image, "sh", "-c", script })
    end
  end
  parallel(branches)
end

local applied, healed, hand_applied, hand_healed = {}, {}, {}, {}
for i = 1, rounds do
  local t0 = now()
  local h = c:partition("random-halves", { seed = i })
  local t1 = now()
  h:heal()
  local t2 = now()
  applied[i], healed[i] = t1 - t0, t2 - t1
  t0 = now()
  by_hand(i, "-A")
  t1 = now()
  by_hand(i, "-D")
  t2 = now()
  hand_applied[i], hand_healed[i] = t1 - t0, t2 - t1
end
print(("%-6s %-9s %2d nodes  ccm-lua apply %.3f s  heal %.3f s   by hand apply %.3f s  heal %.3f s  (medians of %d)")
  :format(engine, mechanism, nodes, median(applied), median(healed), median(hand_applied), median(hand_healed), rounds))
c:remove()
