-- Error values for the built-in Lua library: the same tables (message, kind, where, ...) with
-- the same metatable that Swift bindings raise, so `pcall` and `tostring` treat them alike.
-- Also the one set of argument and option checks every built-in function uses, worded as
-- lauxlib words its own (`luaL_typeerror`, `luaL_argerror`).
local host = require "ccm.host"

local errors = {}

-- Raises an error of `kind`. `level` works as for error(): 1 (default) points at the function
-- that called raise, 2 at its caller. `fields` adds node, cmd, code, stderr, ...
-- The host moves the position past the built-in library's frames, to the script's line.
function errors.raise(kind, message, level, fields)
  local value = fields or {}
  value.kind, value.message = kind, message
  error(host.new_error(value, (level or 1) + 1), 0)
end

-- The standard "bad argument #n to 'name' (...)" error, of kind "usage".
function errors.argument(n, name, detail)
  errors.raise("usage", string.format("bad argument #%d to '%s' (%s)", n, name, detail), 3)
end

-- The name a user knows a value by: a table's or userdata's `__name` ("ccm.Node"), else its type.
local getmetatable_raw = debug and debug.getmetatable or getmetatable
function errors.typename(value)
  local mt = getmetatable_raw(value)
  local name = type(mt) == "table" and rawget(mt, "__name")
  if type(name) == "string" then return name end
  return type(value)
end

-- Does `value` match `expected`, a `|`-separated list of Lua types and `__name`s
-- ("string|table", "ccm.Node|number")? "any" matches everything. An object with a `__name` is
-- not a "table": a Cluster given for an argv list is a mistake worth naming.
local function matches(value, expected)
  if expected == "any" then return true end
  local named = errors.typename(value)
  for t in expected:gmatch("[^|]+") do
    if t == named then return true end
    if t == "integer" and math.type(value) == "integer" then return true end
  end
  return false
end

local function expected_text(expected)
  return (expected:gsub("|", " or "))
end

-- Checks argument n of `name` against `expected` ("string|table", "ccm.Node"); nil passes when
-- `optional`. Raises "bad argument #n to 'name' (string or table expected, got ccm.Cluster)".
function errors.check(n, name, value, expected, optional)
  if value == nil and optional then return end
  if matches(value, expected) then return end
  errors.raise("usage", string.format("bad argument #%d to '%s' (%s expected, got %s)",
    n, name, expected_text(expected), value == nil and "no value" or errors.typename(value)), 3)
end

-- Checks the self of a method call. `n.exec("ls")` (a dot for a colon) passes "ls" as self,
-- which is the mistake lauxlib's "calling 'f' on bad self" names.
function errors.check_self(self, name, class)
  if getmetatable(self) == class then return end
  local wanted = rawget(class, "__name") or "object"
  local hint = (type(self) == "table" and getmetatable(self) ~= nil)
    and string.format("%s expected, got %s", wanted, errors.typename(self))
    or "use ':' to call a method"
  errors.raise("usage", string.format("calling '%s' on bad self (%s)", name, hint), 3)
end

-- Edit distance with swaps (optimal string alignment), for "did you mean"; names are short.
local function distance(a, b)
  local before, previous = {}, {}
  for j = 0, #b do previous[j] = j end
  for i = 1, #a do
    local current = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      current[j] = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        current[j] = math.min(current[j], before[j - 2] + 1) -- "wiat" is one swap from "wait"
      end
    end
    before, previous = previous, current
  end
  return previous[#b]
end

-- "wait:boolean timeout:number" -> { order = {"wait", "timeout"}, types = {wait = "boolean", ...} }
local schemas = {}
local function schema(text)
  local parsed = schemas[text]
  if parsed then return parsed end
  parsed = { order = {}, types = {} }
  for key, expected in text:gmatch("([%w_]+):([%w_.|]+)") do
    parsed.order[#parsed.order + 1] = key
    parsed.types[key] = expected
  end
  schemas[text] = parsed
  return parsed
end

-- The known name `key` is most likely a typo of, or nil.
function errors.suggest(key, names)
  if type(key) ~= "string" then return nil end
  local closest, best = nil, math.huge
  for _, name in ipairs(names) do
    local d = distance(key, name)
    if d < best then closest, best = name, d end
  end
  if closest and best <= math.max(1, #closest // 3) then return closest end
  return nil
end

local function unknown_option(caller, key, known)
  local shown = type(key) == "string" and ("'" .. key .. "'") or ("[" .. tostring(key) .. "]")
  local closest = errors.suggest(key, known.order)
  local hint = closest and string.format("did you mean '%s'? ", closest) or ""
  local list = #known.order > 0 and table.concat(known.order, ", ") or "none"
  return string.format("%s: unknown option %s (%sknown: %s)", caller, shown, hint, list)
end

-- Checks an options table: nil is no options; an unknown key or a value of the wrong type is a
-- "usage" error naming the call as the script wrote it ("n:start"). `fields` lists the options
-- in the order users read them: "wait:boolean timeout:number". `n` is the argument's number.
-- Returns the table, or an empty one for nil.
function errors.options(caller, n, opts, fields)
  if opts == nil then return {} end
  if errors.typename(opts) ~= "table" then
    errors.raise("usage", string.format("bad argument #%d to '%s' (options table expected, got %s)",
      n, caller:match("[:.]([%w_]+)$") or caller, errors.typename(opts)), 3)
  end
  local known = schema(fields)
  for key, value in pairs(opts) do
    local expected = known.types[key]
    if expected == nil then errors.raise("usage", unknown_option(caller, key, known), 3) end
    if not matches(value, expected) then
      local wanted = expected_text(expected)
      errors.raise("usage", string.format("%s: option '%s' must be %s %s, got %s", caller, key,
        wanted:match("^[aeiou]") and "an" or "a", wanted, errors.typename(value)), 3)
    end
  end
  return opts
end

-- Is `value` one of our error tables?
function errors.is(value)
  return type(value) == "table" and type(rawget(value, "kind")) == "string"
    and type(rawget(value, "message")) == "string"
end

return errors
