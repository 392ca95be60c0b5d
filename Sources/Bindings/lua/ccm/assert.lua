-- The `assert` global: Lua's own assert, callable as before, with busted/luassert-style checks
-- as fields (API.md, "Tests"). `assert.equal(expected, actual)`, `assert.are.same(a, b)`,
-- `assert.is_not_nil(v)`, `assert.not_.matches(p, s)`: the words is/are/has/... only read well,
-- `not`/`no` negates, and the last word names the check.
local errors = require "ccm.errors"

local plain_assert = require "ccm.assert.base"

-- Values as a failure message shows them: strings quoted, tables as a short literal.
local function show(value, depth)
  depth = depth or 0
  local t = type(value)
  if t == "string" then return (string.format("%q", value):gsub("\\\n", "\\n")) end
  if t ~= "table" then return tostring(value) end
  local mt = getmetatable(value)
  if mt and mt.__tostring then return tostring(value) end
  if depth >= 2 then return "{...}" end
  local parts, count = {}, 0
  for k, v in pairs(value) do
    count = count + 1
    if count > 8 then parts[#parts + 1] = "..." break end
    local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. show(k, depth + 1) .. "]")
    parts[#parts + 1] = key .. " = " .. show(v, depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A value and, where its text alone could mislead ("1" and 1), its type.
local function described(value, other)
  local text = show(value)
  if other ~= nil and type(value) ~= type(other) then text = text .. " (" .. type(value) .. ")" end
  return text
end

local function deep_equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_equal(v, rawget(b, k), seen) then return false end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then return false end
  end
  return true
end

-- The first path where two tables differ, for the message: "[2].name".
local function first_difference(a, b, path)
  path = path or ""
  if type(a) ~= "table" or type(b) ~= "table" then return path, a, b end
  for k, v in pairs(a) do
    if not deep_equal(v, rawget(b, k)) then
      return first_difference(v, rawget(b, k), path .. "[" .. show(k) .. "]")
    end
  end
  for k, v in pairs(b) do
    if rawget(a, k) == nil then return path .. "[" .. show(k) .. "]", nil, v end
  end
  return path, a, b
end

-- Raises the failure as an error value of kind "assertion", at the line that called the check.
local function failure(message, user_message, fields)
  if user_message ~= nil then message = tostring(user_message) .. "\n" .. message end
  errors.raise("assertion", message, 3, fields)
end

-- Each check returns ok (as if not negated) and the failure text for both senses.
local checks = {}

function checks.equal(expected, actual)
  return expected == actual,
    ("expected %s, got %s"):format(described(expected, actual), described(actual, expected)),
    ("expected a value other than %s"):format(show(expected))
end
checks.equals = checks.equal

function checks.same(expected, actual)
  if deep_equal(expected, actual) then
    return true, nil, ("expected a value different from %s"):format(show(expected))
  end
  local text = ("expected %s, got %s"):format(described(expected, actual), described(actual, expected))
  if type(expected) == "table" and type(actual) == "table" then
    local path, e, a = first_difference(expected, actual)
    text = text .. ("\n  they differ at %s: expected %s, got %s"):format(path, described(e, a), described(a, e))
  end
  return false, text
end

function checks.truthy(value)
  return value ~= nil and value ~= false, ("expected a truthy value, got %s"):format(show(value)),
    ("expected a falsy value (nil or false), got %s"):format(show(value))
end
function checks.falsy(value)
  return value == nil or value == false, ("expected a falsy value (nil or false), got %s"):format(show(value)),
    ("expected a truthy value, got %s"):format(show(value))
end
checks["true"] = function(value)
  return value == true, ("expected true, got %s"):format(described(value, true)), "expected a value other than true"
end
checks["false"] = function(value)
  return value == false, ("expected false, got %s"):format(described(value, false)), "expected a value other than false"
end
checks["nil"] = function(value)
  return value == nil, ("expected nil, got %s"):format(show(value)), "expected a value, got nil"
end

function checks.matches(pattern, actual, init, plain)
  if type(pattern) ~= "string" then errors.argument(1, "matches", "string pattern expected, got " .. type(pattern)) end
  local text = tostring(actual)
  local ok = type(actual) == "string" or type(actual) == "number"
  ok = ok and text:find(pattern, init, plain) ~= nil
  return ok, ("expected %s to match the pattern %s"):format(show(actual), show(pattern)),
    ("expected %s not to match the pattern %s"):format(show(actual), show(pattern))
end
checks.match = checks.matches

function checks.near(expected, actual, tolerance)
  if type(expected) ~= "number" then errors.argument(1, "near", "number expected, got " .. type(expected)) end
  if type(tolerance) ~= "number" then errors.argument(3, "near", "number (tolerance) expected, got " .. type(tolerance)) end
  local ok = type(actual) == "number" and math.abs(expected - actual) <= tolerance
  return ok, ("expected %s ± %s, got %s"):format(show(expected), show(tolerance), described(actual, expected)),
    ("expected a value farther than %s from %s, got %s"):format(show(tolerance), show(expected), show(actual))
end

-- has_error(fn, expected): fn raises; with `expected`, the error's text (without the
-- "file:line: " prefix) or its message field equals it.
function checks.error(fn, expected)
  if type(fn) ~= "function" then errors.argument(1, "has_error", "function expected, got " .. type(fn)) end
  local ok, err = pcall(fn)
  if ok then
    return false, expected == nil and "expected an error, got none" or ("expected the error %s, got none"):format(show(expected)),
      nil
  end
  if expected == nil then return true, nil, ("expected no error, got %s"):format(show(tostring(err))) end
  local text = type(err) == "string" and err:gsub("^[^\n]-:%d+: ", "", 1) or err
  local same = text == expected or deep_equal(err, expected)
    or (type(err) == "table" and type(rawget(err, "message")) == "string" and rawget(err, "message") == expected)
  return same, ("expected the error %s, got %s"):format(show(expected), show(type(err) == "table" and tostring(err) or text)),
    ("expected an error other than %s"):format(show(expected))
end
checks.errors = checks.error

-- Type checks: assert.is_number(v), assert.is_table(v), ...
for _, t in ipairs { "number", "string", "table", "function", "boolean", "userdata", "thread" } do
  checks[t] = function(value)
    return type(value) == t, ("expected a %s, got %s (%s)"):format(t, show(value), type(value)),
      ("expected something other than a %s, got %s"):format(t, show(value))
  end
end

-- How many arguments each check takes before the optional message.
local arity = { equal = 2, equals = 2, same = 2, matches = 2, match = 2, near = 3, error = 2, errors = 2 }

local function run_check(name, negated, ...)
  local check = checks[name]
  local ok, positive, negative = check(...)
  if negated then ok = not ok end
  if ok then return ... end
  local n = arity[name] or 1
  local fields = {}
  if n >= 2 then fields.expected, fields.actual = show((...)), show((select(2, ...))) end
  local user_message = select(n + 1, ...)
  if name == "error" or name == "errors" then user_message = nil end
  failure((negated and negative or positive) or "assertion failed", user_message, fields)
end

local NOISE = { is = true, are = true, was = true, has = true, have = true, does = true, be = true, to = true }

-- Reads a field name like "is_not_nil" or "are_not": the check and whether it is negated, or
-- no check yet (a chain such as assert.is_not, to be followed by .equal).
local function parse(key, negated)
  local name
  for word in key:gmatch("[^_]+") do
    if word == "not" or word == "no" or word == "Not" then
      negated = not negated
    elseif not NOISE[word] then
      name = name and (name .. "_" .. word) or word
    end
  end
  return name, negated
end

local chain_mt = {}
local function chain(negated)
  return setmetatable({ negated = negated }, chain_mt)
end

local function lookup(key, negated)
  if type(key) ~= "string" then return nil end
  local name, neg = parse(key, negated)
  if name == nil then return chain(neg) end
  if not checks[name] then
    local known = {}
    for k in pairs(checks) do known[#known + 1] = k end
    table.sort(known)
    errors.raise("usage", ("assert has no check '%s' (checks: %s)"):format(key, table.concat(known, ", ")), 2)
  end
  return function(...) return run_check(name, neg, ...) end
end

chain_mt.__index = function(c, key) return lookup(key, rawget(c, "negated")) end

local M = setmetatable({}, {
  -- Plain Lua assert, unchanged: same values returned, same error raised.
  __call = plain_assert,
  __index = function(_, key) return lookup(key, false) end,
  __name = "ccm.assert",
})

-- For the runner: tells a failed plain assert(v, msg) from any other error.
M._plain_assert = plain_assert
M._show = show

return M
