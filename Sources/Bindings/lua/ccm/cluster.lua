--- The `cluster` global: clusters and nodes as scripts see them (API.md, "cluster" and "node").
---
--- This module turns a spec into per-node plans by asking the profile, then hands the plans to
--- `ccm.core` (Swift), which creates and drives the containers. Cluster and Node objects are Lua
--- tables around a core handle, so a profile's helpers (`n:etcdctl`, `n:nodetool`) are just methods.
local errors = require "ccm.errors"

local M = {}
local Cluster = {}
local Node = {}

local BUILTIN_PROFILES = { scylla = true, cassandra = true, etcd = true, generic = true }
local SPEC_FIELDS = {
  name = "string", profile = "string|table", image = "string", nodes = "number|table", runtime = "string",
  config = "table", env = "table", args = "table", cpus = "number", memory = "string", cap_add = "table",
  volumes = "table", ports = "table", start = "boolean", keep = "boolean", timeout = "number",
  user = "string", owner = "string", pull = "string", endpoints = "string",
  hosts = "table", placement = "table",
}

-- Errors ---------------------------------------------------------------------------------------
-- Error values point at the first line outside the built-in library (the host does that for
-- every error value), so a failure in here reads as the line of the script that called us.

--- Raises an error value of `kind`.
local function fail(kind, message, fields)
  errors.raise(kind, message, 1, fields)
end

local function usage(message) fail("usage", message) end

local core = require "ccm.core"

local function check_type(value, expected, what)
  local actual = type(value)
  for t in expected:gmatch("[^|]+") do
    if actual == t then return end
  end
  usage(("%s must be a %s, got %s"):format(what, (expected:gsub("|", " or ")), actual))
end

local check, options = errors.check, errors.options

-- Options of each method, in the order the docs list them (errors.options).
local START_OPTIONS = "wait:boolean timeout:number"
local STOP_OPTIONS = "gently:boolean timeout:number"
local EXEC_OPTIONS = "env:table user:string workdir:string timeout:number stdin:string"
local WAIT_LOG_OPTIONS = "from:ccm.LogMark|number timeout:number count:integer plain:boolean"

-- Profiles -------------------------------------------------------------------------------------

local PROFILE_HELP = "(see docs/profiles.md)"

local function load_profile(profile)
  if profile == nil then profile = "scylla" end
  if type(profile) == "table" then
    if type(profile.node) ~= "function" then
      usage("a profile table needs a node(node, cluster) function " .. PROFILE_HELP)
    end
    return profile
  end
  if BUILTIN_PROFILES[profile] then return require("ccm.profiles." .. profile) end
  local ok, loaded = pcall(require, profile)
  if not ok then
    local text = tostring(loaded)
    if text:find("module '" .. profile .. "' not found", 1, true) then
      usage(("unknown profile '%s' (built in: scylla, cassandra, etcd, generic; or pass a profile table or module name)")
        :format(profile))
    end
    fail("config", ("profile module '%s' failed to load: %s"):format(profile, text))
  end
  if type(loaded) ~= "table" or type(loaded.node) ~= "function" then
    usage(("module '%s' is not a profile: it has no node(node, cluster) function %s"):format(profile, PROFILE_HELP))
  end
  return loaded
end

local function profile_name(profile)
  return profile.name or "custom"
end

-- Specs and plans ------------------------------------------------------------------------------

local function script_stem()
  local script = arg and arg[0]
  local stem = type(script) == "string" and script:match("([^/]+)%.lua$") or "ccm"
  stem = stem:lower():gsub("[^a-z0-9-]", "-"):gsub("^-+", ""):sub(1, 33)
  return stem ~= "" and stem or "ccm"
end

local function default_name()
  return ("%s-%06x"):format(script_stem(), math.random(0, 0xffffff))
end

local function check_count(count, what)
  if math.type(count) == nil or count < 1 or count ~= math.floor(count) then
    usage(("%s must be a whole number of at least 1, got %s"):format(what, tostring(count)))
  end
end

--- Node names and datacenters: `nodes = 3` or `nodes = {dc1 = 3, dc2 = 2}` (datacenters in name order).
local function expand_nodes(nodes)
  nodes = nodes or 1
  local list = {}
  if type(nodes) == "number" then
    check_count(nodes, "nodes")
    for i = 1, nodes do list[i] = { name = "node" .. i, index = i } end
    return list
  end
  local dcs = {}
  for dc, count in pairs(nodes) do
    if type(dc) ~= "string" then
      usage("nodes must be a count or a table of datacenter = count (e.g. {dc1 = 3, dc2 = 2}), got a list")
    end
    if type(count) ~= "number" then
      usage(("nodes.%s must be a whole number of at least 1, got %s"):format(dc, type(count)))
    end
    check_count(count, "nodes." .. dc)
    dcs[#dcs + 1] = dc
  end
  if #dcs == 0 then usage("nodes = {} names no datacenter; give a count or {dc1 = 3, dc2 = 2}") end
  table.sort(dcs)
  for _, dc in ipairs(dcs) do
    for _ = 1, nodes[dc] do
      local i = #list + 1
      list[i] = { name = "node" .. i, index = i, dc = dc }
    end
  end
  return list
end

--- spec.env values and spec.args items become strings; anything else is a mistake worth naming.
local function check_spec_values(spec)
  local pull = spec.pull
  if pull ~= nil and pull ~= "missing" and pull ~= "always" and pull ~= "never" then
    usage(('spec.pull must be "missing", "always" or "never", got "%s"'):format(pull))
  end
  for k, v in pairs(spec.env or {}) do
    if type(k) ~= "string" then usage(("spec.env keys must be variable names, got %s"):format(tostring(k))) end
    local t = type(v)
    if t ~= "string" and t ~= "number" and t ~= "boolean" then
      usage(("spec.env.%s must be a string, number or boolean, got %s"):format(k, t))
    end
  end
  for i, a in pairs(spec.args or {}) do
    if math.type(i) ~= "integer" then usage("spec.args must be a list of strings") end
    if type(a) ~= "string" and type(a) ~= "number" then
      usage(("spec.args[%d] must be a string or number, got %s"):format(i, type(a)))
    end
  end
end

local function profile_defaults(profile, cluster_view)
  local config = profile.config
  if type(config) == "function" then config = config(cluster_view) end
  return config or {}
end

--- Applies what the spec says about every node on top of what the profile planned.
--- The plan's env and command are copied first: a profile may hand every node the same table
--- (generic hands out spec.command itself), and each node must get the spec's additions once.
local function apply_spec(plan, spec)
  local env = {}
  for k, v in pairs(plan.env or {}) do env[k] = v end
  for k, v in pairs(spec.env or {}) do env[k] = tostring(v) end
  plan.env = env
  if spec.args then
    local command = {}
    for i, a in ipairs(plan.command or {}) do command[i] = a end
    for _, a in ipairs(spec.args) do command[#command + 1] = tostring(a) end
    plan.command = command
  end
  plan.cpus = plan.cpus or spec.cpus
  plan.memory = plan.memory or spec.memory
  plan.cap_add = plan.cap_add or spec.cap_add
  plan.volumes = plan.volumes or spec.volumes
  plan.ports = plan.ports or spec.ports
  plan.user = plan.user or spec.user
  plan.owner = plan.owner or spec.owner
  return plan
end

local function plan_node(profile, node, cluster_view, spec, image)
  local ok, plan = pcall(profile.node, node, cluster_view)
  if not ok then
    -- A profile's own bug reads as one, with the node it was planning.
    if errors.is(plan) then error(plan, 0) end
    fail("config", ("profile '%s' failed planning %s: %s"):format(profile_name(profile), node.name, tostring(plan)))
  end
  if type(plan) ~= "table" then
    fail("config", ("profile '%s' returned no plan for %s (node() must return a table)"):format(profile_name(profile), node.name))
  end
  plan.image = plan.image or image
  return apply_spec(plan, spec)
end

-- Wrapping core handles ------------------------------------------------------------------------

local function wrap(handle, profile, info)
  info = info or handle:info()
  local c = setmetatable({
    name = info.name, profile = info.profile, image = info.image, runtime = info.runtime,
    network = info.network, hosts = info.hosts, _handle = handle, _profile = profile, _nodes = {},
  }, Cluster)
  for _, record in ipairs(info.nodes) do
    c._nodes[#c._nodes + 1] = setmetatable({
      name = record.name, index = record.index, dc = record.dc, host = record.host, cluster = c,
    }, Node)
  end
  return c
end

-- cluster.* ------------------------------------------------------------------------------------

function M.create(spec)
  if spec == nil then spec = {} end
  check_type(spec, "table", "cluster.create's argument")
  local profile = load_profile(spec.profile)
  local allowed = profile.spec_fields or {}
  for key, value in pairs(spec) do
    local expected = SPEC_FIELDS[key] or allowed[key]
    if not expected then
      local names = {}
      for name in pairs(SPEC_FIELDS) do names[#names + 1] = name end
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      local closest = errors.suggest(key, names)
      usage(("unknown field '%s' in the cluster spec (profile %s%s)"):format(tostring(key), profile_name(profile),
        closest and ("; did you mean '" .. closest .. "'?") or ""))
    end
    if expected ~= "any" then check_type(value, expected, "spec." .. key) end
  end
  check_spec_values(spec)
  if spec.endpoints and not ({ auto = true, address = true, published = true })[spec.endpoints] then
    usage(("spec.endpoints must be \"auto\", \"address\" or \"published\", got %q"):format(spec.endpoints))
  end
  local name = spec.name or default_name()
  local image = spec.image or (profile.image and profile.image(spec))
  if type(image) ~= "string" then
    usage(("profile %s needs an image: set spec.image"):format(profile_name(profile)))
  end
  local nodes = expand_nodes(spec.nodes)
  local cluster_view = { name = name, image = image, spec = spec, nodes = nodes }
  local defaults = profile_defaults(profile, cluster_view)
  local planned = {}
  for i, node in ipairs(nodes) do
    local view = { name = node.name, index = node.index, dc = node.dc, cluster = cluster_view }
    view.config = core.merge_config(defaults, spec.config or {})
    planned[i] = { name = node.name, index = node.index, dc = node.dc, config = view.config,
                   plan = plan_node(profile, view, cluster_view, spec, image) }
  end
  -- The spec is kept with the cluster, so a later script that attaches can still plan nodes
  -- (add_node, set_config). A profile given as a table cannot be kept; its name is.
  local kept = {}
  for key, value in pairs(spec) do
    if key ~= "profile" or type(value) == "string" then kept[key] = value end
  end
  local handle = core.create {
    name = name, profile = profile_name(profile), image = image, runtime = spec.runtime,
    start_order = profile.start_order or "parallel", keep = spec.keep or false, nodes = planned,
    spec = kept, pull = spec.pull, hosts = spec.hosts, placement = spec.placement,
  }
  local c = wrap(handle, profile)
  c._spec = spec
  c._view = cluster_view
  if spec.start then c:start { timeout = spec.timeout } end
  return c
end

function M.get(name)
  check_type(name, "string", "cluster.get's argument")
  local handle, err = core.attach(name)
  if not handle then return nil, err end
  local info = handle:info()
  -- The profile by the name the spec gave (a built-in one, or a module require finds); a profile
  -- that was a table is gone: the cluster works, but cannot plan new nodes.
  local spec = info.spec
  local ref
  if spec then
    -- No profile in the spec: the default, or a table (not kept).
    ref = spec.profile or (info.profile == "scylla" and "scylla" or nil)
  else
    ref = BUILTIN_PROFILES[info.profile] and info.profile or nil
  end
  local profile
  if ref then
    local ok, loaded = pcall(load_profile, ref)
    profile = ok and loaded or nil
  end
  local c = wrap(handle, profile, info)
  if profile and spec then
    c._spec = spec
    c._view = { name = c.name, image = c.image, spec = spec, nodes = {} }
    for i, n in ipairs(c._nodes) do c._view.nodes[i] = { name = n.name, index = n.index, dc = n.dc } end
  end
  return c
end

function M.list()
  return core.list()
end

-- Cluster methods ------------------------------------------------------------------------------

Cluster.__index = Cluster
Cluster.__name = "ccm.Cluster"
function Cluster.__tostring(c) return ("Cluster(%s, %d nodes, %s)"):format(c.name, #c._nodes, c.runtime) end

function Cluster:nodes()
  local copy = {}
  for i, n in ipairs(self._nodes) do copy[i] = n end
  return copy
end

function Cluster:node(which)
  for _, n in ipairs(self._nodes) do
    if n.index == which or n.name == which then return n end
  end
  local names = {}
  for i, n in ipairs(self._nodes) do names[i] = n.name end
  usage(("cluster '%s' has no node %s (nodes: %s)"):format(self.name, tostring(which), table.concat(names, ", ")))
end

local function node_names(c, nodes)
  if nodes == nil then return nil end
  local names = {}
  for i, n in ipairs(nodes) do names[i] = type(n) == "table" and n.name or c:node(n).name end
  return names
end

-- A timeout the script did not give stays nil: Core's Defaults has the one default.
function Cluster:start(opts)
  opts = options("c:start", 1, opts, START_OPTIONS)
  self._handle:start(nil, { wait = opts.wait ~= false, timeout = opts.timeout })
  return self
end

function Cluster:stop(opts)
  opts = options("c:stop", 1, opts, STOP_OPTIONS)
  self._handle:stop(nil, { gently = opts.gently ~= false, timeout = opts.timeout })
  return self
end

function Cluster:remove() self._handle:remove() end
function Cluster:status() return self._handle:status() end

--- The image each node runs: {node1 = {ref =, id =, digest =}, ...} (digest where the engine has one).
function Cluster:images()
  local images = {}
  for _, n in ipairs(self._handle:info().nodes) do
    images[n.name] = { ref = n.image, id = n.image_id, digest = n.image_digest }
  end
  return images
end

function Cluster:add_node(opts)
  opts = options("c:add_node", 1, opts, "dc:string start:boolean timeout:number")
  local profile = self._profile
  if not profile or not self._view then
    usage("add_node needs the cluster's profile, which was a table given to cluster.create; pass the profile as a module name to grow the cluster from another script")
  end
  local view = self._view
  -- A node added while the cluster runs joins it; one added before the first start is just
  -- one more node of the new cluster.
  local joining = false
  for _, status in ipairs(self:status()) do
    if status.state == "running" then joining = true end
  end
  -- The name is taken with no wait in between, so add_node in parallel branches gets distinct ones.
  -- After the highest index: a removed node's name is free again only when it was the last one.
  local index = 1
  for _, other in ipairs(view.nodes) do
    if other.index >= index then index = other.index + 1 end
  end
  local name = "node" .. index
  local record = { name = name, index = index, dc = opts.dc or (self._nodes[1] and self._nodes[1].dc) }
  view.nodes[index] = record
  local node_view = { name = name, index = index, dc = record.dc, cluster = view, joining = joining }
  local ok, err = pcall(function()
    node_view.config = core.merge_config(profile_defaults(profile, view), self._spec.config or {})
    self._handle:add_node {
      name = name, index = index, dc = record.dc, config = node_view.config,
      plan = plan_node(profile, node_view, view, self._spec, self.image),
    }
  end)
  if not ok then
    for i, other in ipairs(view.nodes) do
      if other == record then table.remove(view.nodes, i) break end
    end
    error(err, 0)
  end
  local n = setmetatable({ name = name, index = index, dc = record.dc, cluster = self }, Node)
  for _, info in ipairs(self._handle:info().nodes) do
    if info.name == name then n.host = info.host end
  end
  self._nodes[#self._nodes + 1] = n
  -- The profile may have to tell the running cluster first (etcd: `member add`).
  if joining and profile.on_add then profile.on_add(self, n) end
  if opts.start then n:start { timeout = opts.timeout } end
  return n
end

--- Merges `tbl` into every node's configuration (as n:set_config) and into the cluster's own,
--- kept with the cluster, which nodes added later (c:add_node, from any script) start from.
function Cluster:set_config(tbl)
  check(1, "set_config", tbl, "table")
  for _, n in ipairs(self._nodes) do n:set_config(tbl) end
  local merged = self._handle:merge_cluster_config(tbl)
  if self._spec then
    -- A copy: the spec table is the script's own.
    local spec = {}
    for k, v in pairs(self._spec) do spec[k] = v end
    spec.config = merged
    self._spec = spec
    if self._view then self._view.spec = spec end
  end
end

--- Removes one node (c:remove() removes the whole cluster). Unless `force`, a running node first
--- leaves the cluster through its profile's on_remove (etcd: `member remove` on another running
--- member, so the quorum counts only the members left); then it is stopped, its container and
--- folder are removed and the cluster forgets it. A profile whose on_remove asks the other nodes
--- (`leaves_from_peer`) runs it for a stopped node too: otherwise the survivors keep counting it
--- towards their quorum.
function Cluster:remove_node(which, opts)
  check(1, "remove_node", which, "string|integer|ccm.Node")
  opts = options("c:remove_node", 2, opts, "force:boolean timeout:number")
  if type(which) == "table" and which.cluster ~= self then
    usage(("remove_node: %s belongs to cluster '%s', not '%s'"):format(which.name, which.cluster.name, self.name))
  end
  local n = self:node(type(which) == "table" and which.name or which)
  local profile = self._profile
  local note
  if profile and profile.on_remove then
    local skipped = opts.force and "force = true" or nil
    if not skipped then
      local state = n:state()
      if state ~= "running" and not profile.leaves_from_peer then skipped = "it is " .. state end
    end
    if skipped then
      note = ("%s was removed without leaving the %s cluster first (%s): the other nodes may still count it as a member%s")
        :format(n.name, profile_name(profile), skipped, profile.leave_by_hand and ("; " .. profile.leave_by_hand) or "")
    else
      note = profile.on_remove(self, n)
    end
  end
  self._handle:remove_node(n.name, { gently = not opts.force, timeout = opts.timeout })
  if note then require("ccm.log").warn("%s", note) end
  for _, list in ipairs { self._nodes, self._view and self._view.nodes or {} } do
    for i, other in ipairs(list) do
      if other.name == n.name then table.remove(list, i) break end
    end
  end
end

--- Every node's log matches `pattern` (opts as n:wait_log); returns {node name = line(s)}.
function Cluster:wait_log_all(pattern, opts)
  check(1, "wait_log_all", pattern, "string")
  options("c:wait_log_all", 2, opts, WAIT_LOG_OPTIONS)
  local branches = {}
  for i, n in ipairs(self._nodes) do
    branches[i] = function() return n:wait_log(pattern, opts) end
  end
  local results = parallel(branches)
  local by_node = {}
  for i, n in ipairs(self._nodes) do by_node[n.name] = results[i] end
  return by_node
end

function Cluster:add_service(spec)
  check_type(spec, "table", "add_service's argument")
  options("c:add_service", 1, spec,
    "name:string image:string command:string|table entrypoint:string|table env:table volumes:table ports:table")
  check_type(spec.name, "string", "service name")
  check_type(spec.image, "string", "service image")
  return self._handle:add_service(spec)
end

function Cluster:run_once(spec)
  check_type(spec, "table", "run_once's argument")
  options("c:run_once", 1, spec, "image:string command:string|table entrypoint:string|table env:table timeout:number")
  check_type(spec.image, "string", "run_once image")
  return self._handle:run_once(spec)
end

Cluster._node_names = node_names

-- Faults (lua/ccm/fault.lua): partition(groups... | preset, [opts]) and heal every fault.
function Cluster:partition(...) return require("ccm.fault").partition(self, ...) end
function Cluster:heal() require("ccm.fault").heal_all(self) end

-- Node methods ---------------------------------------------------------------------------------

Node.__name = "ccm.Node"
function Node.__tostring(n) return ("Node(%s/%s)"):format(n.cluster.name, n.name) end

local function h(n) return n.cluster._handle end

function Node:ip() return h(self):ip(self.name) end
function Node:remove(opts) return self.cluster:remove_node(self, opts) end
--- "host:port" that reaches the node's `port` from this process (Core's NodeEndpoints rule).
function Node:endpoint(port)
  errors.check(1, "endpoint", port, "number")
  return h(self):endpoint(self.name, port)
end
function Node:state() return h(self):state(self.name) end

function Node:start(opts)
  opts = options("n:start", 1, opts, START_OPTIONS)
  h(self):start({ self.name }, { wait = opts.wait ~= false, timeout = opts.timeout })
  return self
end

function Node:stop(opts)
  opts = options("n:stop", 1, opts, STOP_OPTIONS)
  h(self):stop({ self.name }, { gently = opts.gently ~= false, timeout = opts.timeout })
  return self
end

function Node:restart(opts)
  opts = options("n:restart", 1, opts, "wait:boolean timeout:number gently:boolean stop_timeout:number")
  self:stop { gently = opts.gently, timeout = opts.stop_timeout }
  return self:start { wait = opts.wait, timeout = opts.timeout }
end

-- With an options table, kill and pause are faults: a handle, a duration, healed at the end.
function Node:kill(signal)
  if type(signal) == "table" then return require("ccm.fault").kill(self, signal) end
  h(self):kill(self.name, signal or "KILL"); return self
end
function Node:pause(opts)
  if opts ~= nil then return require("ccm.fault").pause(self, opts) end
  h(self):pause(self.name); return self
end
function Node:resume() h(self):resume(self.name); return self end

-- A string command goes to Swift as it is: Core's ShellCommand decides how a shell runs it.
function Node:exec(cmd, opts)
  check(1, "exec", cmd, "string|table")
  return h(self):exec(self.name, cmd, options("n:exec", 2, opts, EXEC_OPTIONS))
end

function Node:run(cmd, opts)
  check(1, "run", cmd, "string|table")
  local result = h(self):exec(self.name, cmd, options("n:run", 2, opts, EXEC_OPTIONS))
  if result.code ~= 0 then
    local shown = type(cmd) == "string" and cmd or table.concat(cmd, " ")
    local stderr = result.stderr:gsub("%s+$", "")
    fail("exec", ("%s: `%s` exited %d%s"):format(self.name, shown, result.code,
      stderr ~= "" and (": " .. stderr) or ""),
      { node = self.name, cmd = shown, code = result.code, stderr = result.stderr, stdout = result.stdout })
  end
  return result.stdout
end

-- Marks: opaque to scripts, an offset into the node's log file underneath.
local Mark = { __name = "ccm.LogMark" }
Mark.__index = Mark
function Mark.__tostring(m) return ("LogMark(%s@%d)"):format(m.node, m.offset) end

function Node:mark_log()
  return setmetatable({ node = self.name, offset = h(self):mark(self.name) }, Mark)
end

local function log_opts(n, opts, caller, fields)
  opts = options(caller, 2, opts, fields)
  local from = opts.from
  if getmetatable(from) == Mark then
    if from.node ~= n.name then
      usage(("a mark of %s cannot be used on %s"):format(from.node, n.name))
    end
    from = from.offset
  end
  return { from = from, timeout = opts.timeout, count = opts.count or 1, plain = opts.plain or false }
end

function Node:wait_log(pattern, opts)
  check(1, "wait_log", pattern, "string")
  local o = log_opts(self, opts, "n:wait_log", WAIT_LOG_OPTIONS)
  local lines = h(self):wait_log(self.name, pattern, o)
  if o.count == 1 then return lines[1] end
  return lines
end

function Node:grep_log(pattern, opts)
  check(1, "grep_log", pattern, "string")
  return h(self):grep_log(self.name, pattern, log_opts(self, opts, "n:grep_log", "from:ccm.LogMark|number plain:boolean"))
end

function Node:logs(opts)
  opts = options("n:logs", 1, opts, "tail:integer")
  return h(self):logs(self.name, opts.tail or 100)
end

function Node:set_config(tbl)
  check(1, "set_config", tbl, "table")
  local c = self.cluster
  if not c._profile or not c._view then
    usage("set_config needs the cluster's profile, which was a table given to cluster.create; pass the profile as a module name to reconfigure the cluster from another script")
  end
  local config = core.merge_config(self:config(), tbl)
  local view = { name = self.name, index = self.index, dc = self.dc, cluster = c._view, config = config }
  h(self):update_node(self.name, plan_node(c._profile, view, c._view, c._spec, c.image), config)
end

function Node:config() return h(self):config(self.name) end

function Node:put_file(path, content)
  check(1, "put_file", path, "string")
  check(2, "put_file", content, "string")
  h(self):put_file(self.name, path, content)
end

function Node:get_file(path)
  check(1, "get_file", path, "string")
  return h(self):get_file(self.name, path)
end

-- Every method checks its self first, so `n.exec("ls")` (a dot for a colon) says so. Profile
-- helpers (n:etcdctl) get the same check when looked up.
local function checked(class, name, method)
  return function(self, ...)
    errors.check_self(self, name, class)
    return method(self, ...)
  end
end
for _, class in ipairs { Cluster, Node } do
  for name, method in pairs(class) do
    if type(method) == "function" and not name:match("^_") then class[name] = checked(class, name, method) end
  end
end
local profile_methods = setmetatable({}, { __mode = "k" })
function Node.__index(n, key)
  local method = Node[key]
  if method ~= nil then return method end
  local profile = rawget(n, "cluster")._profile
  local helper = profile and profile.methods and profile.methods[key]
  if type(helper) ~= "function" then return helper end
  local wrapped = profile_methods[helper]
  if not wrapped then
    wrapped = checked(Node, key, helper)
    profile_methods[helper] = wrapped
  end
  return wrapped
end

M.Cluster, M.Node = Cluster, Node
return M
