-- wait_until(fn, {timeout =, interval =}): calls fn until it returns a truthy value. The defaults
-- are Core's (Sources/Core/Defaults.swift), so docs and code quote one number.
local errors = require "ccm.errors"
local defaults = require("ccm.core").defaults()

local M = {}

-- Errors of these kinds end the wait at once; others count as "not yet" and are retried.
local fatal = { usage = true, interrupted = true, cancelled = true }

function M.wait_until(fn, opts)
  errors.check(1, "wait_until", fn, "function")
  opts = errors.options("wait_until", 2, opts, "timeout:number interval:number")
  local timeout, interval = opts.timeout or defaults.wait_until_timeout, opts.interval or defaults.wait_until_interval
  if timeout < 0 then errors.argument(2, "wait_until", "field 'timeout': a number >= 0 expected") end
  if interval < 0 then errors.argument(2, "wait_until", "field 'interval': a number >= 0 expected") end

  local deadline = now() + timeout
  local last_error
  while true do
    local ok, value = pcall(fn)
    if ok and value then return value end
    if not ok then
      if errors.is(value) and fatal[value.kind] then error(value, 0) end
      last_error = value
    end
    local remaining = deadline - now()
    if remaining <= 0 then
      local message = string.format("wait_until: condition not met within %g s", timeout)
      if last_error ~= nil then message = message .. " (last error: " .. tostring(last_error) .. ")" end
      errors.raise("timeout", message, 2)
    end
    sleep(math.min(interval, remaining))
  end
end

return M
