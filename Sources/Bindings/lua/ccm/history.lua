--- `require "ccm.history"`: a workload's history of operations, as Jepsen records one
--- (docs/lua-api.md, "ccm.history").
---
---   local h = history.new { concurrency = 5 }
---   local op = h:invoke { process = p, f = "write", key = "k1", value = 3 }
---   op:ok()            -- it happened (a read gives what it read: op:ok(value))
---   op:fail(reason)    -- it certainly did not happen
---   p = op:info(reason) -- unknown (a timeout): p is crashed; continue with the process returned
---
--- The operations are kept in Swift (Core's WorkloadRecorder), which also enforces the rules.
local errors = require "ccm.errors"
local native = require "ccm.history.native"

local M = {}

local History = { __name = "ccm.History" }
History.__index = History
function History.__tostring(h) return ("History(%s, %d events)"):format(tostring(h._handle):match("history%-%d+") or "?", native.count(h._handle)) end

local Op = { __name = "ccm.Op" }
Op.__index = Op
function Op.__tostring(op)
  return ("Op(%s %s%s by %s)"):format(op.f, op.key ~= nil and (tostring(op.key) .. " ") or "", tostring(op.value), tostring(op.process))
end

M.History, M.Op = History, Op

local function wrap(handle, concurrency)
  return setmetatable({ _handle = handle, concurrency = concurrency }, History)
end

--- A new, empty history. `concurrency` (the number of workers) makes op:info return Jepsen's
--- next process, `process + concurrency`; without it, the next process is one past every
--- client process seen so far.
function M.new(opts)
  opts = errors.options("history.new", 1, opts, "concurrency:integer")
  if opts.concurrency ~= nil and opts.concurrency < 1 then
    errors.raise("usage", "history.new: concurrency must be at least 1, got " .. opts.concurrency, 2)
  end
  return wrap(native.new(), opts.concurrency)
end

local invoke_fields = { process = true, f = true, key = true, value = true }

--- Records the invocation of an operation; returns the operation, to complete with :ok, :fail
--- or :info.
function History:invoke(spec)
  errors.check_self(self, "invoke", History)
  -- The common case is checked inline (this runs thousands of times a second); anything unusual
  -- goes through errors.options for its message.
  local fast = type(spec) == "table" and getmetatable(spec) == nil
  if fast then
    for k in pairs(spec) do if not invoke_fields[k] then fast = false break end end
    local p, f, key = spec.process, spec.f, spec.key
    fast = fast and (math.type(p) == "integer" or type(p) == "string" or p == nil) and (type(f) == "string" or f == nil)
      and (key == nil or type(key) == "string" or type(key) == "number")
  end
  if not fast then errors.options("h:invoke", 1, spec, "process:integer|string f:string key:string|number value:any") end
  if spec == nil or spec.process == nil then errors.raise("usage", "h:invoke: process = is required (an integer, or a name such as \"nemesis\")", 2) end
  if spec.f == nil then errors.raise("usage", "h:invoke: f = is required (\"read\", \"write\", \"cas\", ...)", 2) end
  local key = spec.key
  if key ~= nil then key = tostring(key) end
  local index = native.invoke(self._handle, spec.process, spec.f, key, spec.value)
  return setmetatable({ _history = self, index = index, process = spec.process, f = spec.f, key = key, value = spec.value }, Op)
end

local function complete(op, name, kind, n, value, reason)
  errors.check_self(op, name, Op)
  native.complete(op._history._handle, op.index, kind, n > 0, value, reason)
  return op
end

--- It happened. `op:ok()` keeps the invocation's value (a write); `op:ok(v)` records what the
--- operation returned (a read's value; nil is "nothing there").
function Op:ok(...)
  return complete(self, "ok", "ok", select("#", ...), ...)
end

--- It certainly did not happen (a refused cas, an error the server gave before acting).
function Op:fail(reason)
  return complete(self, "fail", "fail", 0, nil, reason)
end

--- Its outcome is unknown (a timeout, a dropped connection): it may take effect at any time
--- after its invocation, or never, and its process is crashed for the rest of the history.
--- Returns the process id the worker continues with.
function Op:info(reason)
  complete(self, "info", "info", 0, nil, reason)
  if math.type(self.process) ~= "integer" then return self.process end
  return native.next_process(self._history._handle, self.process, self._history.concurrency)
end

--- Every event recorded (invocations and completions), in order:
--- `{index =, type = "invoke"|"ok"|"fail"|"info", process =, f =, key =, value =, time =, error =}`;
--- with `{faults = true}`, the run's faults during the workload too, as operations of the
--- process "nemesis".
function History:ops(opts)
  errors.check_self(self, "ops", History)
  opts = errors.options("h:ops", 1, opts, "faults:boolean")
  return native.ops(self._handle, opts.faults == true)
end

--- The number of events recorded.
function History:count()
  errors.check_self(self, "count", History)
  return native.count(self._handle)
end

--- Writes the history as JSON lines (ccm-lua's format), with the run's faults during it as
--- nemesis operations.
function History:save(path)
  errors.check_self(self, "save", History)
  errors.check(1, "save", path, "string")
  native.save(self._handle, path, "jsonl")
  return path
end

--- Writes the history as Jepsen's EDN op maps (for Knossos, elle-cli).
function History:save_edn(path)
  errors.check_self(self, "save_edn", History)
  errors.check(1, "save_edn", path, "string")
  native.save(self._handle, path, "edn")
  return path
end

--- Reads a history: ccm-lua's JSON lines, Jepsen's EDN op maps or Jepsen's etcd text log.
--- `{independent = true}` reads jepsen.independent's `[key value]` values as keyed operations.
function M.load(path, opts)
  errors.check(1, "load", path, "string")
  opts = errors.options("history.load", 2, opts, "independent:boolean")
  return wrap(native.load(path, opts))
end

return M
