-- The `json` global: json.encode(value), json.decode(text), json.null.
--
-- Tables with keys 1..n only are arrays, tables with string keys are objects, an empty table is
-- an object unless marked with json.array(t) (decoded arrays are marked, so they round-trip).
-- Errors (cycles, NaN, mixed keys, bad input) are error values of kind "usage" that say where.
local errors = require "ccm.errors"

local json = {}

json.null = setmetatable({}, {
  __name = "json.null",
  __tostring = function() return "json.null" end,
  __newindex = function() error("json.null cannot be changed", 2) end,
  __metatable = false,
})

local array_mark = setmetatable({}, { __mode = "k" })

-- Marks t as an array (so {} encodes as [] rather than {}) and returns it.
function json.array(t)
  t = t or {}
  array_mark[t] = true
  return t
end

---------------------------------------------------------------------------------------------
-- Encoding

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function fail(path, message)
  error({ json_error = "json.encode: " .. message .. (path ~= "" and " (at " .. path .. ")" or "") }, 0)
end

local encode_value

local function encode_table(t, path, seen, out)
  if seen[t] then fail(path, "cannot encode a table that contains itself") end
  seen[t] = true
  local count, max_index, string_keys = 0, 0, false
  for k in pairs(t) do
    count = count + 1
    if math.type(k) == "integer" and k > 0 then
      if k > max_index then max_index = k end
    elseif type(k) == "string" then
      string_keys = true
    else
      fail(path, "cannot encode a table key of type " .. (math.type(k) or type(k)))
    end
  end
  local is_array = (count == 0 and array_mark[t]) or (count > 0 and not string_keys)
  if is_array then
    if max_index ~= count then
      fail(path, string.format("array has holes (%d items but index %d); use json.null for gaps", count, max_index))
    end
    out[#out + 1] = "["
    for i = 1, count do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], path .. "[" .. i .. "]", seen, out)
    end
    out[#out + 1] = "]"
  else
    if max_index > 0 then fail(path, "table mixes array items and string keys") end
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys) -- stable output, easy to diff
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = encode_string(k)
      out[#out + 1] = ":"
      encode_value(t[k], path .. "." .. k, seen, out)
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

function encode_value(v, path, seen, out)
  local kind = type(v)
  if v == nil or v == json.null then
    out[#out + 1] = "null"
  elseif kind == "boolean" then
    out[#out + 1] = tostring(v)
  elseif kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      fail(path, "cannot encode " .. tostring(v) .. " (JSON has no NaN or infinity)")
    end
    if math.type(v) == "integer" then
      out[#out + 1] = string.format("%d", v)
    else
      local text = string.format("%.14g", v)
      if tonumber(text) ~= v then text = string.format("%.17g", v) end
      out[#out + 1] = text
    end
  elseif kind == "string" then
    out[#out + 1] = encode_string(v)
  elseif kind == "table" then
    encode_table(v, path, seen, out)
  else
    fail(path, "cannot encode a " .. kind)
  end
end

function json.encode(value)
  local out = {}
  local ok, err = pcall(encode_value, value, "", {}, out)
  if not ok then
    if type(err) == "table" and err.json_error then errors.raise("usage", err.json_error, 2) end
    error(err, 0)
  end
  return table.concat(out)
end

---------------------------------------------------------------------------------------------
-- Decoding

local function position(text, at)
  local line, column = 1, 1
  for i = 1, at - 1 do
    if text:byte(i) == 10 then line, column = line + 1, 1 else column = column + 1 end
  end
  return string.format("line %d column %d", line, column)
end

local function decode_fail(text, at, message)
  error({ json_error = "json.decode: " .. message .. " at " .. position(text, at) }, 0)
end

local function skip(text, at)
  return text:find("[^ \t\r\n]", at) or #text + 1
end

local decode_value

local function decode_string(text, at)
  -- `at` is the opening quote.
  local parts, i = {}, at + 1
  while true do
    local j = text:find('["\\%c]', i)
    if not j then decode_fail(text, at, "unterminated string") end
    parts[#parts + 1] = text:sub(i, j - 1)
    local c = text:sub(j, j)
    if c == '"' then return table.concat(parts), j + 1 end
    if c ~= "\\" then decode_fail(text, j, "control character in string") end
    local e = text:sub(j + 1, j + 1)
    local simple = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
    if simple then
      parts[#parts + 1] = simple
      i = j + 2
    elseif e == "u" then
      local hex = text:match("^%x%x%x%x", j + 2)
      if not hex then decode_fail(text, j, "bad \\u escape") end
      local code = tonumber(hex, 16)
      i = j + 6
      if code >= 0xD800 and code <= 0xDBFF then -- a surrogate pair
        local low = text:match("^\\u(%x%x%x%x)", i)
        local low_code = low and tonumber(low, 16)
        if not low_code or low_code < 0xDC00 or low_code > 0xDFFF then
          decode_fail(text, j, "unpaired surrogate in \\u escape")
        end
        code = 0x10000 + (code - 0xD800) * 0x400 + (low_code - 0xDC00)
        i = i + 6
      elseif code >= 0xDC00 and code <= 0xDFFF then
        decode_fail(text, j, "unpaired surrogate in \\u escape")
      end
      parts[#parts + 1] = utf8.char(code)
    else
      decode_fail(text, j, "bad escape \\" .. e)
    end
  end
end

local function decode_array(text, at, depth)
  local result, n = json.array({}), 0
  at = skip(text, at + 1)
  if text:sub(at, at) == "]" then return result, at + 1 end
  while true do
    local value
    value, at = decode_value(text, at, depth)
    n = n + 1
    result[n] = value
    at = skip(text, at)
    local c = text:sub(at, at)
    if c == "]" then return result, at + 1 end
    if c ~= "," then decode_fail(text, at, c == "" and "unexpected end of input, expected ',' or ']'" or "expected ',' or ']' but found '" .. c .. "'") end
    at = skip(text, at + 1)
  end
end

local function decode_object(text, at, depth)
  local result = {}
  at = skip(text, at + 1)
  if text:sub(at, at) == "}" then return result, at + 1 end
  while true do
    if text:sub(at, at) ~= '"' then decode_fail(text, at, "expected a string key") end
    local key
    key, at = decode_string(text, at)
    at = skip(text, at)
    if text:sub(at, at) ~= ":" then decode_fail(text, at, "expected ':' after key") end
    local value
    value, at = decode_value(text, skip(text, at + 1), depth)
    result[key] = value
    at = skip(text, at)
    local c = text:sub(at, at)
    if c == "}" then return result, at + 1 end
    if c ~= "," then decode_fail(text, at, c == "" and "unexpected end of input, expected ',' or '}'" or "expected ',' or '}' but found '" .. c .. "'") end
    at = skip(text, at + 1)
  end
end

-- The JSON number starting at `at` (text), or nil when it is malformed.
local function read_number(text, at)
  local _, e = text:find("^-?%d+", at)
  if not e or text:find("^-?0%d", at) then return nil end
  local i = e + 1
  local _, fe = text:find("^%.%d+", i)
  if fe then i = fe + 1 elseif text:sub(i, i) == "." then return nil end
  local _, ee = text:find("^[eE][-+]?%d+", i)
  if ee then i = ee + 1 elseif text:find("^[eE]", i) then return nil end
  return text:sub(at, i - 1)
end

local literals = { ["true"] = true, ["false"] = false, null = json.null }

function decode_value(text, at, depth)
  if depth > 500 then decode_fail(text, at, "nested too deeply") end
  local c = text:sub(at, at)
  if c == "{" then return decode_object(text, at, depth + 1) end
  if c == "[" then return decode_array(text, at, depth + 1) end
  if c == '"' then return decode_string(text, at) end
  if c == "-" or c:match("%d") then
    local number = read_number(text, at)
    if not number then decode_fail(text, at, "malformed number") end
    return math.tointeger(tonumber(number)) or tonumber(number), at + #number
  end
  local word = text:match("^%a+", at)
  if word and literals[word] ~= nil then return literals[word], at + #word end
  if c == "" then decode_fail(text, at, "unexpected end of input") end
  decode_fail(text, at, "unexpected '" .. (word or c) .. "'")
end

function json.decode(text)
  errors.check(1, "decode", text, "string")
  local ok, value, at = pcall(function()
    local v, next_at = decode_value(text, skip(text, 1), 0)
    next_at = skip(text, next_at)
    if next_at <= #text then decode_fail(text, next_at, "unexpected text after the value") end
    return v, next_at
  end)
  if not ok then
    if type(value) == "table" and value.json_error then errors.raise("usage", value.json_error, 2) end
    error(value, 0)
  end
  return value
end

return json
