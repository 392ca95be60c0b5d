--- `require "ccm.nemesis"`: Jepsen-style fault schedules built from the `fault` module
--- (API.md, "nemesis").
---
--- A package is a fault with its own repair: `{name =, target =, start = function(c, nodes, seed)
--- -> state, stop = function(c, state)}`. A schedule says which package runs when; it is worked
--- out in full before anything happens, from a seed, so the same seed gives the same schedule
--- (it is printed, and kept in the run's history). `nemesis.run` plays it and heals at the end.
local errors = require "ccm.errors"
local fault = require "ccm.fault"
local native = require "ccm.fault.native"

local M = {}

local function usage(message) errors.raise("usage", message, 3) end

-- A seeded generator (SplitMix64 on Lua's wrapping 64-bit integers): the same numbers for the
-- same seed everywhere, and the script's own math.random is left alone.
local function generator(seed)
  local state = seed
  local g = {}
  function g.next()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  function g.below(n) return (g.next() >> 1) % n end
  function g.float() return (g.next() >> 11) * (1.0 / 9007199254740992) end
  function g.shuffle(list)
    local copy = {}
    for i, v in ipairs(list) do copy[i] = v end
    for i = #copy, 2, -1 do
      local j = g.below(i) + 1
      copy[i], copy[j] = copy[j], copy[i]
    end
    return copy
  end
  return g
end
M._generator = generator

-- Targets ----------------------------------------------------------------------------------------

local TARGETS = { one = true, minority = true, majority = true, all = true }

--- The node names a target picks from `names` (a list of node names).
local function choose(target, names, g)
  local n = #names
  if type(target) == "function" then
    local picked = target(names, g)
    if type(picked) ~= "table" then usage("a target function must return a list of nodes") end
    local out = {}
    for i, x in ipairs(picked) do out[i] = type(x) == "table" and x.name or x end
    return out
  end
  if type(target) == "table" then
    local out = {}
    for i, x in ipairs(target) do out[i] = type(x) == "table" and x.name or x end
    return out
  end
  local count
  if target == "one" then count = 1
  elseif target == "minority" then count = math.max(1, (n - 1) // 2)
  elseif target == "majority" then count = n // 2 + 1
  elseif target == "all" then count = n
  else usage(("unknown target '%s' (one, minority, majority, all, a list of nodes, or a function)"):format(tostring(target))) end
  local shuffled = g.shuffle(names)
  local out = {}
  for i = 1, math.min(count, n) do out[i] = shuffled[i] end
  table.sort(out, function(a, b) return #a ~= #b and #a < #b or (#a == #b and a < b) end)
  return out
end
M._choose = choose

-- Packages ---------------------------------------------------------------------------------------

local function heal_all_handles(_, handles)
  for _, h in ipairs(handles or {}) do h:heal() end
end

local function partition_package(preset)
  return {
    name = "partition " .. preset, target = "all",
    -- The sides this seed makes, for the printed schedule (the same pure choice start makes).
    sides = function(names, seed) return (native.preset(preset, names, seed)) end,
    start = function(c, _, seed) return { c:partition(preset, { seed = seed }) } end,
    stop = heal_all_handles,
  }
end

function M.partition_random_halves() return partition_package("random-halves") end
function M.partition_majorities_ring() return partition_package("majorities-ring") end

--- Kills the target's nodes (SIGKILL unless `signal`); they are started again at stop.
function M.kill_random_node(opts)
  opts = opts or {}
  return {
    name = "kill", target = opts.target or "one",
    start = function(c, names)
      local handles = {}
      for i, name in ipairs(names) do handles[i] = c:node(name):kill { signal = opts.signal or "KILL" } end
      return handles
    end,
    stop = heal_all_handles,
  }
end

--- Pauses the target's nodes; they are resumed at stop.
function M.pause_random_node(opts)
  opts = opts or {}
  return {
    name = "pause", target = opts.target or "one",
    start = function(c, names)
      local handles = {}
      for i, name in ipairs(names) do handles[i] = c:node(name):pause {} end
      return handles
    end,
    stop = heal_all_handles,
  }
end

--- Drops `percent` of what the target's nodes send.
function M.packet_loss(opts)
  if type(opts) ~= "table" or type(opts.percent) ~= "number" then usage("nemesis.packet_loss needs {percent = N}") end
  return {
    name = ("loss %s%%"):format(opts.percent), target = opts.target or "one",
    start = function(c, names)
      local handles = {}
      for i, name in ipairs(names) do handles[i] = fault.loss(c:node(name), { percent = opts.percent }) end
      return handles
    end,
    stop = heal_all_handles,
  }
end

-- Schedules --------------------------------------------------------------------------------------
-- A schedule is a table: packages, how the next one is picked ("mix" or "flip_flop"), the mean
-- time between operations (interval) and a time limit. Every combinator takes a package or a
-- schedule as its last argument and returns a new schedule, Jepsen's way:
--   nemesis.time_limit(30, nemesis.stagger(5, nemesis.mix{a, b}))

local Schedule = { __name = "ccm.NemesisSchedule" }
Schedule.__index = Schedule

local function is_package(x) return type(x) == "table" and type(x.start) == "function" and type(x.stop) == "function" end

local function as_schedule(x, what)
  if getmetatable(x) == Schedule then
    local copy = {}
    for k, v in pairs(x) do copy[k] = v end
    return setmetatable(copy, Schedule)
  end
  if is_package(x) then return setmetatable({ packages = { x }, pick = "mix", interval = 10 }, Schedule) end
  usage(("%s needs a nemesis package or schedule, got %s"):format(what, type(x)))
end

--- Each operation starts a package picked at random.
function M.mix(packages)
  if type(packages) ~= "table" or #packages == 0 then usage("nemesis.mix needs a list of packages") end
  for i, p in ipairs(packages) do
    if not is_package(p) then usage(("nemesis.mix: item %d is not a nemesis package"):format(i)) end
  end
  return setmetatable({ packages = packages, pick = "mix", interval = 10 }, Schedule)
end

--- Alternates two packages: a, b, a, b, ...
function M.flip_flop(a, b)
  local s = M.mix { a, b }
  s.pick = "flip_flop"
  return s
end

--- Waits a random time, on average `interval` seconds (uniform in 0..2×interval), before each operation.
function M.stagger(interval, schedule)
  if type(interval) ~= "number" or interval <= 0 then usage("nemesis.stagger needs an interval > 0 seconds") end
  if schedule == nil then return function(s) return M.stagger(interval, s) end end
  local s = as_schedule(schedule, "nemesis.stagger")
  s.interval, s.staggered = interval, true
  return s
end

--- Ends the schedule after `seconds`; whatever is active then is healed.
function M.time_limit(seconds, schedule)
  if type(seconds) ~= "number" or seconds <= 0 then usage("nemesis.time_limit needs a number of seconds > 0") end
  if schedule == nil then return function(s) return M.time_limit(seconds, s) end end
  local s = as_schedule(schedule, "nemesis.time_limit")
  s.limit = seconds
  return s
end

function Schedule:stagger(interval) return M.stagger(interval, self) end
function Schedule:time_limit(seconds) return M.time_limit(seconds, self) end

--- The operations of `schedule` for nodes `names` and `seed`: a list of
--- {at = seconds from the start, action = "start" | "stop", nemesis = name, targets = {names}, op = n, seed = n}.
--- Pure: the same arguments give the same list.
function M.plan(schedule, names, seed)
  local s = as_schedule(schedule, "nemesis.plan")
  local limit = s.limit or 60
  local g = generator(seed)
  local function wait()
    if s.staggered then return g.float() * 2 * s.interval end
    return s.interval
  end
  local ops, t, turn = {}, 0, 0
  while true do
    local hold = wait()
    if t + hold > limit then break end
    turn = turn + 1
    local p
    if s.pick == "flip_flop" then p = s.packages[(turn - 1) % #s.packages + 1]
    else p = s.packages[g.below(#s.packages) + 1] end
    local targets = choose(p.target or "one", names, g)
    local op_seed = g.next() >> 1
    local sides = p.sides and p.sides(targets, op_seed) or nil
    ops[#ops + 1] = { at = t, action = "start", nemesis = p.name, targets = targets, op = turn, seed = op_seed, package = p,
                      sides = sides }
    t = t + hold
    ops[#ops + 1] = { at = t, action = "stop", nemesis = p.name, targets = targets, op = turn, package = p }
    t = t + wait()
  end
  return ops, limit
end

--- The schedule as text, one operation a line.
function M.describe(ops)
  local lines = {}
  for _, op in ipairs(ops) do
    local on = table.concat(op.targets, ",")
    if op.sides then
      local parts = {}
      for i, side in ipairs(op.sides) do parts[i] = table.concat(side, ",") end
      on = table.concat(parts, " | ")
    end
    lines[#lines + 1] = ("%7.2f s  %-5s #%d %s on %s"):format(op.at, op.action, op.op, op.nemesis, on)
  end
  return table.concat(lines, "\n")
end

--- Plays `schedule` on cluster `c` (typically in a `parallel` branch beside the workload):
--- prints it, records it in the history, and heals every fault of `c` at the end, also when it
--- fails. Returns the operations it played.
function M.run(c, schedule, opts)
  opts = opts or {}
  if type(c) ~= "table" or not c._handle then usage("nemesis.run needs a cluster as argument #1") end
  local seed = opts.seed or native.seed()
  if math.type(seed) ~= "integer" then usage("nemesis.run: seed must be a whole number") end
  local names = {}
  for i, n in ipairs(c:nodes()) do names[i] = n.name end
  local ops, limit = M.plan(schedule, names, seed)
  local text = M.describe(ops)
  print(("nemesis schedule (seed %d, %d operations, %g s):\n%s"):format(seed, #ops, limit, text))
  local record = native.record("nemesis", "schedule", names, { seed = tostring(seed), schedule = text })
  local began = now()
  local states = {}
  local ok, err = pcall(function()
    for _, op in ipairs(ops) do
      local delay = began + op.at - now()
      if delay > 0 then sleep(delay) end
      if op.action == "start" then
        states[op.op] = op.package.start(c, op.targets, op.seed)
      else
        op.package.stop(c, states[op.op])
        states[op.op] = nil
      end
    end
    local rest = began + limit - now()
    if rest > 0 then sleep(rest) end
  end)
  -- The final heal: whatever is still active, whatever happened.
  local healed, heal_err = pcall(c.heal, c)
  native.record_end(record)
  if not ok then error(err, 0) end
  if not healed then error(heal_err, 0) end
  return ops
end

return M
