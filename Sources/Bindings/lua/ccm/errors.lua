-- Error values for the built-in Lua library: the same tables (message, kind, where, ...) with
-- the same metatable that Swift bindings raise, so `pcall` and `tostring` treat them alike.
local host = require "ccm.host"

local errors = {}

-- Raises an error of `kind`. `level` works as for error(): 1 (default) points at the function
-- that called raise, 2 at its caller. `fields` adds node, cmd, code, stderr, ...
function errors.raise(kind, message, level, fields)
  local value = fields or {}
  value.kind, value.message = kind, message
  error(host.new_error(value, (level or 1) + 1), 0)
end

-- The standard "bad argument #n to 'name' (...)" error, of kind "usage", pointing at the caller
-- of the function that checks its arguments.
function errors.argument(n, name, detail)
  errors.raise("usage", string.format("bad argument #%d to '%s' (%s)", n, name, detail), 3)
end

-- Checks that argument n has Lua type `expected` (or is nil when `optional`).
function errors.check(n, name, value, expected, optional)
  local actual = type(value)
  if actual ~= expected and not (optional and value == nil) then
    errors.raise("usage", string.format("bad argument #%d to '%s' (%s expected, got %s)",
      n, name, expected, value == nil and "no value" or actual), 3)
  end
end

-- Is `value` one of our error tables?
function errors.is(value)
  return type(value) == "table" and type(rawget(value, "kind")) == "string"
    and type(rawget(value, "message")) == "string"
end

return errors
