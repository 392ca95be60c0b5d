-- wait_until(fn, {timeout = 30, interval = 0.2}): calls fn until it returns a truthy value.
local errors = require "ccm.errors"

local M = {}

-- Errors of these kinds end the wait at once; others count as "not yet" and are retried.
local fatal = { usage = true, interrupted = true, cancelled = true }

function M.wait_until(fn, opts)
  errors.check(1, "wait_until", fn, "function")
  errors.check(2, "wait_until", opts, "table", true)
  opts = opts or {}
  local timeout, interval = opts.timeout or 30, opts.interval or 0.2
  if type(timeout) ~= "number" or timeout < 0 then
    errors.argument(2, "wait_until", "field 'timeout': a number >= 0 expected")
  end
  if type(interval) ~= "number" or interval < 0 then
    errors.argument(2, "wait_until", "field 'interval': a number >= 0 expected")
  end

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
