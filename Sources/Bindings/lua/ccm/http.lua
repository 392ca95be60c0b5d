--- `local http = require "ccm.http"` (also the `http` global): HTTP/1.1 requests from a scenario.
--- Requests suspend the calling coroutine, so `parallel` branches overlap them; connections are
--- kept alive and reused per host (Sources/Core/HTTPClient.swift). A transport failure (refused,
--- reset, timeout, bad URL) raises kind "http"; any status, 404 or 500 too, is a result.
local native = require "ccm.http.native"
local errors = require "ccm.errors"

local http = {}

local Response = { __name = "ccm.http.Response" }
Response.__index = Response

--- r:json() -> the body decoded as JSON (raises kind "usage" when it is not JSON).
function Response:json()
  return require("ccm.json").decode(self.body)
end

--- r.ok: the status is 2xx.
local function wrap(response)
  response.ok = response.status >= 200 and response.status < 300
  return setmetatable(response, Response)
end

local REQUEST_FIELDS = "method:string url:string headers:table body:string json:any timeout:number unix_socket:string"

local function has_header(headers, name)
  for key in pairs(headers) do
    if type(key) == "string" and key:lower() == name then return true end
  end
  return false
end

--- http.request{method = "GET", url =, headers = {}, body =, json =, timeout = 10, unix_socket =}
--- -> {status =, reason =, headers = {lower-case name = value}, body =, ok =} with r:json().
--- `json = value` sends value encoded as JSON (content-type application/json).
function http.request(spec)
  errors.check(1, "request", spec, "table")
  errors.options("http.request", 1, spec, REQUEST_FIELDS)
  if spec.url == nil then errors.argument(1, "request", "field 'url': string expected, got no value") end
  local headers = {}
  for name, value in pairs(spec.headers or {}) do headers[name] = tostring(value) end
  local body = spec.body
  if spec.json ~= nil then
    if body ~= nil then errors.argument(1, "request", "give either body or json, not both") end
    body = require("ccm.json").encode(spec.json)
    if not has_header(headers, "content-type") then headers["content-type"] = "application/json" end
  end
  return wrap(native.request {
    method = spec.method or "GET", url = spec.url, headers = headers, body = body,
    timeout = spec.timeout, unix_socket = spec.unix_socket,
  })
end

local function with(opts, caller, fields)
  errors.check(2, caller, opts, "table", true)
  local spec = {}
  for key, value in pairs(opts or {}) do spec[key] = value end
  for key, value in pairs(fields) do spec[key] = value end
  return spec
end

--- http.get(url, opts) -> response (opts as for request).
function http.get(url, opts)
  errors.check(1, "get", url, "string")
  return http.request(with(opts, "get", { method = "GET", url = url }))
end

--- http.post(url, body, opts) -> response. A table body is sent as JSON.
function http.post(url, body, opts)
  errors.check(1, "post", url, "string")
  errors.check(2, "post", body, "string|table", true)
  errors.check(3, "post", opts, "table", true)
  local spec = {}
  for key, value in pairs(opts or {}) do spec[key] = value end
  spec.method, spec.url = "POST", url
  if type(body) == "table" then spec.json = body else spec.body = body end
  return http.request(spec)
end

--- How many connections this process has opened so far (keep-alive shows as few).
function http.connections_opened()
  return native.connections_opened()
end

-- Base64 (RFC 4648), which JSON APIs such as etcd's v3 gateway use for keys and values.
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local DECODE = {}
for i = 1, #ALPHABET do DECODE[ALPHABET:byte(i)] = i - 1 end

--- http.base64_encode(s) -> text
function http.base64_encode(s)
  errors.check(1, "base64_encode", s, "string")
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = string.char(
      ALPHABET:byte((n >> 18) + 1), ALPHABET:byte(((n >> 12) & 63) + 1),
      b and ALPHABET:byte(((n >> 6) & 63) + 1) or 61, c and ALPHABET:byte((n & 63) + 1) or 61)
  end
  return table.concat(out)
end

--- http.base64_decode(text) -> s; raises kind "usage" on a character outside the alphabet.
function http.base64_decode(text)
  errors.check(1, "base64_decode", text, "string")
  local clean = text:gsub("[%s=]", "")
  local out, bits, count = {}, 0, 0
  for i = 1, #clean do
    local v = DECODE[clean:byte(i)]
    if v == nil then errors.raise("usage", ("base64_decode: '%s' at %d is not base64"):format(clean:sub(i, i), i), 2) end
    bits, count = (bits << 6) | v, count + 6
    if count >= 8 then
      count = count - 8
      out[#out + 1] = string.char((bits >> count) & 255)
    end
  end
  return table.concat(out)
end

return http
