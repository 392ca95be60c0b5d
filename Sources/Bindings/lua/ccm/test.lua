-- The scenario test runner (API.md, "Tests"): describe/it/hooks build a tree while a file
-- loads; run() then runs the selected tests one by one, each as its own coroutine under the
-- scheduler with a time limit, removes the clusters each test created, scans node logs for
-- errors, and hands every result to the host (ccm.runner), which prints and reports them.
local host = require "ccm.runner"
local errors = require "ccm.errors"
local assert_module = require "ccm.assert"

local M = {}

local function new_block(name, parent, opts)
  return { kind = "block", name = name, parent = parent, opts = opts or {}, children = {},
           before_each = {}, after_each = {}, setup = {}, teardown = {} }
end

local root = new_block(nil, nil)
local current = root
local defined = 0

-- Definitions ----------------------------------------------------------------------------------

-- name, [opts,] fn: opts is optional in the middle.
local function split_args(fname, name, opts, fn)
  errors.check(1, fname, name, "string")
  if fn == nil and type(opts) == "function" then opts, fn = nil, opts end
  errors.check(2, fname, opts, "table", true)
  return name, opts or {}, fn
end

local OPTION_TYPES = { timeout = "number", tags = "table", ignore_log_patterns = "table" }

local function check_options(fname, opts)
  for key, value in pairs(opts) do
    local expected = OPTION_TYPES[key]
    if not expected then
      errors.raise("usage", ("%s: unknown option '%s' (options: timeout, tags, ignore_log_patterns)"):format(fname, tostring(key)), 3)
    end
    if type(value) ~= expected then
      errors.raise("usage", ("%s: option '%s' must be a %s, got %s"):format(fname, key, expected, type(value)), 3)
    end
  end
  if opts.timeout and opts.timeout <= 0 then
    errors.raise("usage", ("%s: option 'timeout' must be > 0 seconds, got %s"):format(fname, opts.timeout), 3)
  end
end

function M.describe(name, opts, fn)
  name, opts, fn = split_args("describe", name, opts, fn)
  errors.check(3, "describe", fn, "function")
  check_options("describe", opts)
  local block = new_block(name, current, opts)
  current.children[#current.children + 1] = block
  local outer = current
  current = block
  local ok, err = pcall(fn)
  current = outer
  if not ok then error(err, 0) end
end

function M.it(name, opts, fn)
  name, opts, fn = split_args("it", name, opts, fn)
  errors.check(3, "it", fn, "function", true)
  check_options("it", opts)
  defined = defined + 1
  current.children[#current.children + 1] = { kind = "test", name = name, opts = opts, fn = fn, block = current,
                                              pending = fn == nil }
end

function M.pending(name)
  errors.check(1, "pending", name, "string")
  defined = defined + 1
  current.children[#current.children + 1] = { kind = "test", name = name, opts = {}, block = current, pending = true }
end

local function hook(kind)
  return function(fn)
    errors.check(1, kind, fn, "function")
    local list = current[kind == "lazy_setup" and "setup" or kind]
    list[#list + 1] = fn
  end
end
M.before_each, M.after_each, M.setup, M.teardown = hook "before_each", hook "after_each", hook "setup", hook "teardown"
-- Blocks without a selected test are skipped whole, so every setup is lazy here.
M.lazy_setup = hook "lazy_setup"
M.strict_setup = hook "setup"

--- How many tests (pending included) the loaded file defined.
function M.count() return defined end

-- Selection and order --------------------------------------------------------------------------

local function full_name(test)
  local parts = { test.name }
  local block = test.block
  while block and block.name do
    table.insert(parts, 1, block.name)
    block = block.parent
  end
  return table.concat(parts, " ")
end

local function tags_of(test)
  local tags = {}
  local function add(list) for _, t in ipairs(list or {}) do tags[tostring(t)] = true end end
  add(test.opts.tags)
  local block = test.block
  while block do add(block.opts.tags); block = block.parent end
  -- busted's "#tag" words in names
  for word in full_name(test):gmatch("#([%w_%-]+)") do tags[word] = true end
  return tags
end

local function any_matches(patterns, text)
  for _, p in ipairs(patterns) do
    if text:find(p) then return true end
  end
  return false
end

local function selected(test, config)
  local name = full_name(test)
  if #config.filter > 0 and not any_matches(config.filter, name) then return false end
  if #config.filter_out > 0 and any_matches(config.filter_out, name) then return false end
  local tags = tags_of(test)
  if #config.tags > 0 then
    local found = false
    for _, t in ipairs(config.tags) do found = found or tags[t] end
    if not found then return false end
  end
  for _, t in ipairs(config.exclude_tags) do
    if tags[t] then return false end
  end
  return true
end

-- A small generator of its own, so the order depends on the seed alone (math.random is the
-- scripts', seeded with the same seed for repeatable names).
local function shuffler(seed)
  local state = seed ~ 0x5DEECE66D
  return function(n)
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 33) % n) + 1
  end
end

local function shuffle_tree(block, random)
  local list = block.children
  for i = #list, 2, -1 do
    local j = random(i)
    list[i], list[j] = list[j], list[i]
  end
  for _, child in ipairs(list) do
    if child.kind == "block" then shuffle_tree(child, random) end
  end
end

local function mark_selected(block, config)
  local count = 0
  for _, child in ipairs(block.children) do
    if child.kind == "block" then
      count = count + mark_selected(child, config)
    else
      child.selected = selected(child, config)
      if child.selected then count = count + 1 end
    end
  end
  block.selected_count = count
  return count
end

-- Running guarded code ---------------------------------------------------------------------------

local DONE, TIMED_OUT = setmetatable({}, { __name = "done" }), setmetatable({}, { __name = "timed out" })

-- Tracebacks show the user's frames: the runner's own and the scheduler's plumbing go.
local function clean_traceback(text)
  local lines = {}
  for line in (text or ""):gmatch("[^\n]+") do
    if not (line:find("builtin/ccm/", 1, true) or line:find("in function 'xpcall'", 1, true)
            or line:find("in function 'pcall'", 1, true) or line:find("%(%.%.%.tail calls%.%.%.%)")
            or line:find("in function 'parallel'", 1, true) or line:find("in function 'error'", 1, true) or line:find("in function <builtin", 1, true)) then
      lines[#lines + 1] = line
    end
  end
  if #lines <= 1 then return nil end
  return table.concat(lines, "\n")
end

local function raised_by_plain_assert()
  for level = 2, 6 do
    local info = debug.getinfo(level, "f")
    if not info then return false end
    if info.func == assert_module._plain_assert then return true end
  end
  return false
end

local function last_step()
  local steps = host.steps()
  return steps[#steps]
end

-- A failure record reads as its message: log.step's __close receives it when a step fails.
local Record = { __tostring = function(r) return r.message end, __name = "ccm.TestFailure" }

-- The message handler: runs where the error was raised, while its stack is still there.
local function describe_failure(err)
  local failed = (errors.is(err) and err.kind == "assertion") or raised_by_plain_assert()
  local record = {
    status = failed and "failed" or "errored",
    message = tostring(err),
    traceback = clean_traceback(debug.traceback("", 2)),
    step = (errors.is(err) and rawget(err, "step")) or last_step(),
    error = err,
    -- the error's kind, for the steps it passes through (log.step records it)
    kind = (errors.is(err) and err.kind) or (failed and "assertion") or nil,
  }
  if errors.is(err) and err.kind == "interrupted" then record.interrupted = true end
  return setmetatable(record, Record)
end

-- Runs fn as a coroutine of its own with a time limit. Returns {status = "passed"} or a failure
-- record; a timeout records where fn was waiting at that moment. The watchdog branch catches fn
-- while it waits; a loop that never waits is stopped by the host's deadline, raised inside it.
local DEADLINE = host.deadline_message()

local function passed_deadline(message)
  return type(message) == "string" and message:find(DEADLINE, 1, true) ~= nil
end

local function guarded(fn, timeout, what)
  local result, thread, steps
  local function timed_out()
    return {
      status = "timed_out",
      message = ("%s timed out after %g s (set a longer limit with it(name, {timeout = seconds}, fn) or --timeout)")
        :format(what, timeout),
      traceback = thread and clean_traceback(debug.traceback(thread, "", 0)) or nil,
      step = steps and steps:innermost(),
    }
  end
  local function body()
    thread = coroutine.running()
    steps = host.steps_handle()
    local ok, record = xpcall(fn, describe_failure)
    result = ok and { status = "passed" } or record
    error(DONE, 0)
  end
  local function watchdog()
    sleep(timeout)
    result = timed_out()
    error(TIMED_OUT, 0)
  end
  local previous = host.set_deadline(timeout)
  local ok, err = pcall(parallel, body, watchdog)
  host.restore_deadline(previous)
  if result and result.status ~= "passed" and result.status ~= "timed_out" and passed_deadline(result.message) then
    local record = timed_out()
    record.traceback = result.traceback or record.traceback
    result = record
  elseif not ok and passed_deadline(tostring(err)) then
    result = timed_out()
  elseif not ok and err ~= DONE and err ~= TIMED_OUT then
    -- Ctrl-C, or the scheduler gave up: not the test's failure, the run's end.
    if errors.is(err) and (err.kind == "interrupted" or err.kind == "cancelled") then error(err, 0) end
    result = result or { status = "errored", message = tostring(err) }
  end
  if result.interrupted then error(result.error, 0) end
  return result
end

-- Clusters per scope -----------------------------------------------------------------------------
-- cluster.create is wrapped once: every cluster made while a test (or a block's setup) runs is
-- remembered there, and removed when it ends.

local scopes = {}

local function track_clusters()
  local cluster = require "ccm.cluster"
  if cluster._test_tracked then return end
  cluster._test_tracked = true
  local create = cluster.create
  cluster.create = function(spec)
    local c = create(spec)
    local scope = scopes[#scopes]
    if scope and not (type(spec) == "table" and spec.keep) then scope.clusters[#scope.clusters + 1] = c end
    return c
  end
end

local function live_clusters()
  local list = {}
  for _, scope in ipairs(scopes) do
    for _, c in ipairs(scope.clusters) do list[#list + 1] = c end
  end
  return list
end

local function remove_clusters(scope, keep)
  for i = #scope.clusters, 1, -1 do
    local c = scope.clusters[i]
    if keep and c._handle.keep then
      pcall(c._handle.keep, c._handle)
      host.note(("kept cluster %s of the failed test (remove it with `ccm-lua rm %s`)"):format(c.name, c.name))
    else
      local ok, err = pcall(c.remove, c)
      if not ok then host.note(("could not remove cluster %s: %s"):format(c.name, tostring(err))) end
    end
  end
  scope.clusters = {}
end

-- Node logs: the error gate, the tail shown on failure, artifacts ------------------------------

local function marks_now()
  local marks = {}
  for _, c in ipairs(live_clusters()) do
    for _, n in ipairs(c:nodes()) do
      local ok, mark = pcall(n.mark_log, n)
      if ok then marks[n] = mark end
    end
  end
  return marks
end

local function list_of(...)
  local out = {}
  for i = 1, select("#", ...) do
    for _, v in ipairs(select(i, ...) or {}) do out[#out + 1] = v end
  end
  return out
end

local function suite_ignores(test)
  local out = list_of(test.opts.ignore_log_patterns)
  local block = test.block
  while block do
    for _, p in ipairs(block.opts.ignore_log_patterns or {}) do out[#out + 1] = p end
    block = block.parent
  end
  return out
end

-- Lines of node logs since the test began that match the profile's error patterns and none of
-- the ignore patterns (the profile's, the test's, its describe blocks').
local function error_log_lines(test, marks)
  local found = {}
  for _, c in ipairs(live_clusters()) do
    local profile = c._profile or {}
    local patterns = profile.error_patterns or {}
    if #patterns > 0 then
      local ignores = list_of(profile.ignore_log_patterns, suite_ignores(test))
      for _, n in ipairs(c:nodes()) do
        local opts = { from = marks[n] }
        local ignored = {}
        for _, p in ipairs(ignores) do
          local ok, lines = pcall(n.grep_log, n, p, opts)
          if ok then for _, line in ipairs(lines) do ignored[line] = true end end
        end
        local seen = {}
        for _, p in ipairs(patterns) do
          local ok, lines = pcall(n.grep_log, n, p, opts)
          if ok then
            for _, line in ipairs(lines) do
              if not ignored[line] and not seen[line] then
                seen[line] = true
                found[#found + 1] = ("%s/%s: %s"):format(c.name, n.name, line)
              end
            end
          end
        end
      end
    end
  end
  return found
end

local LOG_TAIL = 10

local function log_tails()
  local tails = {}
  for _, c in ipairs(live_clusters()) do
    for _, n in ipairs(c:nodes()) do
      local ok, text = pcall(n.logs, n, { tail = LOG_TAIL })
      if ok and text ~= "" then
        local lines = {}
        for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
        tails[#tails + 1] = { node = c.name .. "/" .. n.name, lines = lines }
      end
    end
  end
  return tails
end

-- Node logs, inspect output, generated configs, images, seed and history of the live clusters
-- (Core's TestArtifacts), into the test's own folder.
local function save_artifacts(dir, test_name)
  local handles = {}
  for _, c in ipairs(live_clusters()) do handles[#handles + 1] = c._handle end
  local problems = host.save_artifacts(dir .. "/" .. host.folder_name(test_name), table.unpack(handles))
  for _, problem in ipairs(problems) do host.note("artifacts: could not save " .. problem) end
end

-- Running the tree -----------------------------------------------------------------------------

local function run_hooks(list, timeout, what)
  for _, fn in ipairs(list) do
    local outcome = guarded(fn, timeout, what)
    if outcome.status ~= "passed" then
      outcome.message = what .. " failed: " .. outcome.message
      if outcome.status == "failed" then outcome.status = "errored" end
      return outcome
    end
  end
  return nil
end

local function chain_of(block)
  local chain = {}
  while block do table.insert(chain, 1, block); block = block.parent end
  return chain
end

local function report(test, config, fields)
  fields.name = full_name(test)
  fields.file = config.file
  local tags = {}
  for t in pairs(tags_of(test)) do tags[#tags + 1] = t end
  table.sort(tags)
  fields.tags = tags
  fields.repetition = config.repeat_count > 1 and config.repetition or nil
  host.report(fields)
end

local function run_test(test, config, state)
  if test.pending then
    report(test, config, { status = "pending", duration = 0 })
    return
  end
  local timeout = test.opts.timeout or config.timeout
  host.started(full_name(test))
  local started = now()
  local marks = marks_now()
  local scope = { clusters = {} }
  scopes[#scopes + 1] = scope
  local chain = chain_of(test.block)

  local outcome
  for _, block in ipairs(chain) do
    outcome = run_hooks(block.before_each, timeout, "before_each")
    if outcome then break end
  end
  if not outcome then
    outcome = guarded(test.fn, timeout, "the test")
  end
  for i = #chain, 1, -1 do
    local after = run_hooks(chain[i].after_each, timeout, "after_each")
    if after and outcome.status == "passed" then outcome = after end
  end
  if outcome.status == "passed" then
    local lines = error_log_lines(test, marks)
    if #lines > 0 then
      outcome = { status = "failed", message = ("node logs show errors (add a pattern to ignore_log_patterns if they are expected):\n  %s")
        :format(table.concat(lines, "\n  ")) }
    end
  end
  local failed = outcome.status ~= "passed"
  local fields = { status = outcome.status, message = outcome.message, traceback = outcome.traceback,
                   step = outcome.step }
  if failed then
    fields.logs = log_tails()
  end
  if config.artifacts and (failed or config.artifacts_every_test) then
    local name = full_name(test)
    if config.repeat_count > 1 then name = ("%s [%d]"):format(name, config.repetition) end
    save_artifacts(config.artifacts, name)
  end
  table.remove(scopes)
  remove_clusters(scope, failed and config.keep_on_failure)
  fields.duration = now() - started
  report(test, config, fields)
  if failed then state.failures = state.failures + 1 end
end

-- Reports every selected test under `block` as errored (its setup failed).
local function fail_all(block, config, outcome)
  for _, child in ipairs(block.children) do
    if child.kind == "block" then
      fail_all(child, config, outcome)
    elseif child.selected then
      report(child, config, { status = outcome.status == "timed_out" and "timed_out" or "errored", duration = 0,
                              message = outcome.message, traceback = outcome.traceback, step = outcome.step })
    end
  end
end

local function run_block(block, config, state)
  if block.selected_count == 0 then return end
  local scope = { clusters = {} }
  scopes[#scopes + 1] = scope
  local outcome = run_hooks(block.setup, config.timeout, "setup")
  if outcome then
    fail_all(block, config, outcome)
    state.failures = state.failures + block.selected_count
  else
    for _, child in ipairs(block.children) do
      if config.exit_first and state.failures > 0 then break end
      if child.kind == "block" then
        run_block(child, config, state)
      elseif child.selected then
        run_test(child, config, state)
      end
    end
  end
  local torn = run_hooks(block.teardown, config.timeout, "teardown")
  if torn then host.note(torn.message .. (torn.traceback and ("\n" .. torn.traceback) or "")) end
  table.remove(scopes)
  remove_clusters(scope, false)
end

local function list_tests(block, config)
  for _, child in ipairs(block.children) do
    if child.kind == "block" then
      list_tests(child, config)
    elseif child.selected then
      local tags = {}
      for t in pairs(tags_of(child)) do tags[#tags + 1] = t end
      table.sort(tags)
      host.report { status = "listed", name = full_name(child), file = config.file, tags = tags, duration = 0 }
    end
  end
end

--- Runs the tests defined so far as the host's configuration says. Returns the number of
--- tests that did not pass (pending ones pass).
function M.run()
  local config = host.config()
  if config.file == "" then config.file = type(arg) == "table" and arg[0] or "?" end
  track_clusters()
  if config.shuffle then shuffle_tree(root, shuffler(config.seed)) end
  mark_selected(root, config)
  if config.list then
    list_tests(root, config)
    return 0
  end
  local state = { failures = 0 }
  for repetition = 1, config.repeat_count do
    config.repetition = repetition
    run_block(root, config, state)
    if config.exit_first and state.failures > 0 then break end
  end
  return state.failures
end

--- For `ccm-lua test`: loads and runs one file; a file that does not load is reported as one
--- errored test named after the file.
function M.run_file(path)
  local config = host.config()
  math.randomseed(config.seed)
  track_clusters()
  local chunk, problem = loadfile(path)
  local ok, err = chunk ~= nil, problem
  if chunk then ok, err = xpcall(chunk, describe_failure) end
  if not ok then
    local record = type(err) == "table" and err or { message = tostring(err) }
    host.report { status = "errored", name = "(loading " .. path .. ")", file = path, duration = 0,
                  message = record.message, traceback = record.traceback, tags = {} }
    return 1
  end
  return M.run()
end

--- For `ccm-lua FILE`: runs the tests the script defined, if any, then prints the summary.
function M.run_defined()
  if defined == 0 then return 0 end
  -- The file's own code ran already; from here on names repeat with the printed seed.
  math.randomseed(host.config().seed)
  local failures = M.run()
  host.finish()
  return failures
end

return M
