-- The `log` global: the scenario's own output, on stderr, timestamped and prefixed with the step.
local host = require "ccm.host"
local errors = require "ccm.errors"

local log = {}

local function emit(level, fmt, ...)
  if not host.log_enabled(level) then return end
  local message
  if select("#", ...) == 0 then
    message = tostring(fmt)
  else
    local ok, text = pcall(string.format, fmt, ...)
    message = ok and text or (tostring(fmt) .. " (log format error: " .. tostring(text) .. ")")
  end
  host.log_write(level, message)
end

function log.debug(fmt, ...) emit("debug", fmt, ...) end
function log.info(fmt, ...) emit("info", fmt, ...) end
function log.warn(fmt, ...) emit("warn", fmt, ...) end
function log.error(fmt, ...) emit("error", fmt, ...) end

-- log.step(name, fn): runs fn as a named step; logs its start, duration and outcome, and
-- returns what fn returns. An error passes through unchanged (with its traceback); error
-- tables get `step = name` so the report names the innermost failing step.
function log.step(name, fn)
  errors.check(1, "step", name, "string")
  errors.check(2, "step", fn, "function")
  local id = host.step_enter(name)
  local started = now()
  local _ <close> = setmetatable({}, {
    __close = function(_, err)
      if type(err) == "table" and rawget(err, "step") == nil then rawset(err, "step", name) end
      local kind = err ~= nil and (type(err) == "table" and rawget(err, "kind") or "error") or nil
      host.step_leave(name, now() - started, err, id, kind ~= nil and tostring(kind) or nil)
    end,
  })
  return fn()
end

-- Node log helpers, same as the node methods.
function log.mark(node) return node:mark_log() end
function log.wait(node, pattern, opts) return node:wait_log(pattern, opts) end
function log.grep(node, pattern, opts) return node:grep_log(pattern, opts) end

return log
