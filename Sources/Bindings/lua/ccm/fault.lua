--- The `fault` global and the fault methods of clusters and nodes (API.md, "fault").
---
--- This module only resolves nodes and checks options; Core's FaultInjector (through
--- ccm.fault.native) makes, applies, re-applies and heals the rules. Every call returns a handle
--- with :heal() and .groups.
local errors = require "ccm.errors"
local native = require "ccm.fault.native"

local M = {}

local function usage(message) errors.raise("usage", message, 3) end

local Fault = { __name = "ccm.Fault" }
Fault.__index = Fault
function Fault.__tostring(f) return ("Fault(%s #%d on %s)"):format(f.kind, f.id, f.cluster.name) end

--- Heals this fault (a healed one stays healed: no error).
function Fault:heal()
  native.heal(self.cluster._handle, self.id)
  return self
end

local function is_node(x)
  local cluster_module = require "ccm.cluster"
  return type(x) == "table" and getmetatable(x) == cluster_module.Node
end

--- A node given as a Node, an index or a name, as its name in cluster `c`.
local function node_name(c, x, what)
  if is_node(x) then
    if x.cluster.name ~= c.name then usage(("%s: %s is not a node of cluster '%s'"):format(what, tostring(x), c.name)) end
    return x.name
  end
  if type(x) == "number" or type(x) == "string" then return c:node(x).name end
  usage(("%s: a node, node index or node name expected, got %s"):format(what, type(x)))
end

local function node_list(c, list, what)
  if list == nil then return nil end
  if is_node(list) then return { list.name } end
  if type(list) ~= "table" then usage(("%s must be a list of nodes, got %s"):format(what, type(list))) end
  local names = {}
  for i, x in ipairs(list) do names[i] = node_name(c, x, what) end
  return names
end

--- Checks an options table against `allowed` (field = type).
local function options(opts, allowed, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then usage(("%s: options must be a table, got %s"):format(what, type(opts))) end
  for k, v in pairs(opts) do
    local expected = allowed[k] or (k == "duration" and "number")
    if not expected then
      local names = { "duration" }
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      usage(("%s: unknown option '%s' (options: %s)"):format(what, tostring(k), table.concat(names, ", ")))
    end
    if type(v) ~= expected then usage(("%s: option '%s' must be a %s, got %s"):format(what, k, expected, type(v))) end
  end
  if opts.duration ~= nil and opts.duration < 0 then usage(("%s: duration must be >= 0 seconds"):format(what)) end
  return opts
end

local function nodes_by_name(c)
  local by = {}
  for _, n in ipairs(c:nodes()) do by[n.name] = n end
  return by
end

local function apply(c, kind, spec, opts)
  spec.kind, spec.duration = kind, opts.duration
  local result = native.apply(c._handle, spec)
  local by = nodes_by_name(c)
  local groups = {}
  for i, group in ipairs(result.groups) do
    groups[i] = {}
    for j, name in ipairs(group) do groups[i][j] = by[name] end
  end
  return setmetatable({ id = result.id, kind = kind, groups = groups, cluster = c }, Fault)
end

--- The run's seed (CCM_LUA_SEED, or drawn once per run).
function M.seed() return native.seed() end

--- The groups a preset makes for the nodes of `c` with `seed` (pure: the same seed, the same groups).
function M.preset_groups(c, preset, seed)
  local names = {}
  for i, n in ipairs(c:nodes()) do names[i] = n.name end
  local groups, grudge = native.preset(preset, names, seed or native.seed())
  return groups, grudge
end

--- c:partition(group1, group2, ..., [opts]) or c:partition(preset, [opts]).
function M.partition(c, ...)
  local args = table.pack(...)
  local opts
  local last = args[args.n]
  if args.n >= 1 and type(last) == "table" and not is_node(last) and #last == 0 then
    opts = last
    args.n = args.n - 1
  end
  local names = {}
  for i, n in ipairs(c:nodes()) do names[i] = n.name end
  if type(args[1]) == "string" and args.n == 1 and not tonumber(args[1]) then
    -- A preset, unless it names a node.
    local is_name = false
    for _, name in ipairs(names) do if name == args[1] then is_name = true end end
    if not is_name then
      opts = options(opts, { seed = "number" }, "partition")
      local seed = opts.seed
      if seed ~= nil and math.type(seed) ~= "integer" then usage("partition: seed must be a whole number") end
      local groups, grudge = native.preset(args[1], names, seed or native.seed())
      return apply(c, "partition", { groups = groups, grudge = grudge }, opts)
    end
  end
  opts = options(opts, {}, "partition")
  if args.n == 0 then usage("partition needs groups of nodes ({n1}, {n2, n3}) or a preset (\"one\", \"majority\", ...)") end
  local groups = {}
  for i = 1, args.n do
    local group = args[i]
    if type(group) == "table" and not is_node(group) then
      groups[i] = node_list(c, group, "partition group " .. i)
    else
      groups[i] = { node_name(c, group, "partition group " .. i) }
    end
  end
  return apply(c, "partition", { groups = groups, nodes = names }, opts)
end

--- Heals every fault of cluster `c`.
function M.heal_all(c)
  native.heal_all(c._handle)
end

local function target(node, what)
  if not is_node(node) then usage(("%s: argument #1 must be a node, got %s"):format(what, type(node))) end
  return node.cluster, node.name
end

--- fault.block(from, to, [opts]): packets from `from` never reach `to`; `to` still reaches `from`.
function M.block(from, to, opts)
  local c, a = target(from, "fault.block")
  local b = node_name(c, to, "fault.block")
  return apply(c, "block", { from = a, to_node = b }, options(opts, {}, "fault.block"))
end

local PACKET = {
  loss = { percent = "number", to = "table" },
  rate = { kbit = "number", to = "table" },
  delay = { ms = "number", jitter = "number", to = "table" },
  duplicate = { percent = "number", to = "table" },
  corrupt = { percent = "number", to = "table" },
  reorder = { percent = "number", to = "table" },
}

for kind, allowed in pairs(PACKET) do
  M[kind] = function(node, opts)
    local what = "fault." .. kind
    local c, name = target(node, what)
    opts = options(opts, allowed, what)
    local spec = { node = name, percent = opts.percent, kbit = opts.kbit, ms = opts.ms, jitter = opts.jitter }
    spec.to = node_list(c, opts.to, what .. " to")
    return apply(c, kind, spec, opts)
  end
end

--- n:pause{duration =}: paused now, resumed on heal (or after duration).
function M.pause(node, opts)
  local c, name = target(node, "pause")
  return apply(c, "pause", { node = name }, options(opts, {}, "pause"))
end

--- n:kill{signal =, duration =}: killed now, started again on heal (or after duration).
function M.kill(node, opts)
  local c, name = target(node, "kill")
  opts = options(opts, { signal = "string" }, "kill")
  return apply(c, "kill", { node = name, signal = opts.signal or "KILL" }, opts)
end

--- Which way rules reach the namespaces of `c`'s nodes: "nsenter" or "container".
function M.mechanism(c) return native.mechanism(c._handle) end

--- The run's history so far (monotonic ns times).
function M.history() return native.history() end

return M
