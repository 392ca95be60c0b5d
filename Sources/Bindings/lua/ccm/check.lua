--- `require "ccm.check"`: checkers over workload histories (docs/lua-api.md, "ccm.check").
--- The search is Core's (Swift); this module checks options and explains results.
local errors = require "ccm.errors"
local history = require "ccm.history"
local native = require "ccm.check.native"

local M = {}

M.models = { "register", "cas-register", "set", "kv", "etcd" }
local known = {}
for _, name in ipairs(M.models) do known[name] = true end

local function usage(message) errors.raise("usage", message, 3) end

--- Is `h` linearizable for `model`? Returns `{valid = true|false|"unknown", keys = {[key] = {valid =,
--- linearized = {ops...}, failed = op}}}`; a single-object history (no keys) has one entry under "".
--- `model` is a name (M.models) or a table `{init = state, step = function(state, op) return ok,
--- new_state end}`; `time_limit` (seconds) makes the verdict "unknown" when the search takes longer.
function M.linearizable(h, opts)
  errors.check(1, "linearizable", h, "ccm.History")
  opts = errors.options("check.linearizable", 2, opts, "model:string|table time_limit:number")
  local model = opts.model
  if model == nil then usage("check.linearizable: model = is required (" .. table.concat(M.models, ", ") .. ", or a model table)") end
  if opts.time_limit ~= nil and not (opts.time_limit > 0) then
    usage("check.linearizable: time_limit must be a number of seconds > 0, got " .. tostring(opts.time_limit))
  end
  if type(model) == "string" then
    if not known[model] then
      local hint = errors.suggest(model, M.models)
      usage(("check.linearizable: unknown model '%s' (%sknown: %s, or a table {init =, step =})"):format(
        model, hint and ("did you mean '" .. hint .. "'? ") or "", table.concat(M.models, ", ")))
    end
    return native.linearizable(h._handle, model, nil, nil, opts.time_limit)
  end
  for key in pairs(model) do
    if key ~= "init" and key ~= "step" then
      usage(("check.linearizable: a model table has init and step, not '%s'"):format(tostring(key)))
    end
  end
  if type(model.step) ~= "function" then
    usage("check.linearizable: a model table needs step = function(state, op) return ok, new_state end, got " .. type(model.step))
  end
  return native.linearizable(h._handle, nil, model.init, model.step, opts.time_limit)
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = show(x) end
    if #parts == #v and next(v) ~= nil or next(v) == nil then return "[" .. table.concat(parts, " ") .. "]" end
    return require("ccm.json").encode(v)
  end
  return tostring(v)
end

--- One operation as a line: "process 3 read k1 -> 2 (ok at 12.345 s)".
function M.describe_op(op, t0)
  local at = ""
  if op.time and t0 then at = string.format(" at %.3f s", (op.time - t0) / 1e9) end
  local key = op.key ~= nil and (" " .. tostring(op.key)) or ""
  local value = op.value ~= nil and (" " .. show(op.value)) or " nil"
  return string.format("process %s %s%s%s (%s%s)", tostring(op.process), op.f, key, value, op.type or "?", at)
end

--- A human summary of a check's result: the verdict and, for every key that is not
--- linearizable, the last operations that could be placed and the one that cannot.
function M.describe(result, opts)
  errors.check(1, "describe", result, "table")
  opts = errors.options("check.describe", 2, opts, "context:integer")
  local context = opts.context or 5
  local lines = {}
  local verdict = result.valid == true and "linearizable" or result.valid == false and "NOT linearizable" or "unknown (the check ran out of time)"
  lines[1] = "verdict: " .. verdict
  local keys = {}
  for key in pairs(result.keys or {}) do keys[#keys + 1] = key end
  table.sort(keys)
  local t0
  for _, key in ipairs(keys) do
    local r = result.keys[key]
    for _, op in ipairs(r.linearized or {}) do if op.time and (t0 == nil or op.time < t0) then t0 = op.time end end
  end
  for _, key in ipairs(keys) do
    local r = result.keys[key]
    if r.valid == false then
      local name = key == "" and "the history" or ("key " .. key)
      lines[#lines + 1] = string.format("%s: not linearizable after %d operations", name, #(r.linearized or {}))
      local lin = r.linearized or {}
      if #lin > 0 then lines[#lines + 1] = "  the last operations that can be placed, in order:" end
      for i = math.max(1, #lin - context + 1), #lin do lines[#lines + 1] = "    " .. M.describe_op(lin[i], t0) end
      if r.failed then lines[#lines + 1] = "  cannot be placed after them: " .. M.describe_op(r.failed, t0) end
    elseif r.valid ~= true then
      lines[#lines + 1] = string.format("%s: unknown", key == "" and "the history" or ("key " .. key))
    end
  end
  return table.concat(lines, "\n")
end

M.history = history
return M
