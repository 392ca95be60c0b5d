/* The C side of the Swift/Lua boundary. Read ccm_shim.h first; lua.c and lauxlib.c are the
 * models for everything here. Stack effects are noted as in the Lua manual: [-pop, +push]. */
#include "ccm_shim.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- The trampoline ------------------------------------------------------------------------- */

static ccm_dispatch_fn dispatch = NULL;

/* Its address is the sentinel value; its content is never used. */
static char sentinel_anchor;

void ccm_set_dispatch(ccm_dispatch_fn fn) { dispatch = fn; }

void ccm_pushsentinel(lua_State *L) { lua_pushlightuserdata(L, &sentinel_anchor); }

int ccm_issentinel(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &sentinel_anchor;
}

/* Runs after the scheduler resumes a suspended binding. The scheduler passed (ok, values...):
 * they sit above `base`, the stack top at the moment of the yield. */
static int resume_binding(lua_State *L, int status, lua_KContext base) {
  int first = (int)base + 1; /* index of `ok` */
  (void)status;
  if (lua_gettop(L) < first) return 0; /* resumed with nothing: no results */
  if (!lua_toboolean(L, first)) {
    lua_settop(L, first + 1); /* the error value is on top */
    return lua_error(L);
  }
  return lua_gettop(L) - first; /* every value after `ok` */
}

/* Every Lua-callable Swift function is this C closure; upvalue 1 names the Swift function.
 * The Swift frame has returned before lua_error or lua_yieldk longjmps. */
static int trampoline(lua_State *L) {
  void *function = lua_touserdata(L, lua_upvalueindex(1));
  int n = dispatch(L, function);
  if (n >= 0) return n;
  if (n == CCM_STATUS_ERROR) return lua_error(L);
  /* CCM_STATUS_YIELD: the binding left nothing on the stack beyond its arguments. */
  lua_KContext base = lua_gettop(L);
  ccm_pushsentinel(L);
  return lua_yieldk(L, 1, base, resume_binding);
}

void ccm_pushfunction(lua_State *L, void *function, int n) {
  lua_pushlightuserdata(L, function); /* [-0, +1] */
  lua_rotate(L, -(n + 1), 1);         /* move it below the n upvalues */
  lua_pushcclosure(L, trampoline, n + 1);
}

/* ---- Interrupts (lua.c's laction/lstop, made sticky) -------------------------------------- */

static volatile sig_atomic_t interrupted = 0;
static volatile sig_atomic_t signals_seen = 0;
static volatile sig_atomic_t last_signal = 0;
static int notify_fd = -1;

/* Its address keys the registry field holding the run's deadline (monotonic ns, 0 for none). */
static char deadline_key;

static lua_Integer monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (lua_Integer)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (interrupted) luaL_error(L, "interrupted!");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &deadline_key); /* [-0, +1] */
  lua_Integer deadline = lua_tointeger(L, -1);
  lua_pop(L, 1);                                    /* [-1, +0] */
  /* Raised again every 1000 instructions until the runner restores the deadline. (A loop that
   * pcalls pure computation may swallow it each time; Ctrl-C, twice, still ends that.) */
  if (deadline != 0 && monotonic_ns() > deadline) luaL_error(L, "%s", CCM_DEADLINE_MESSAGE);
}

lua_Integer ccm_set_deadline(lua_State *L, double seconds) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &deadline_key); /* [-0, +1] */
  lua_Integer previous = lua_tointeger(L, -1);
  lua_pop(L, 1);                                    /* [-1, +0] */
  lua_pushinteger(L, seconds > 0 ? monotonic_ns() + (lua_Integer)(seconds * 1e9) : 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &deadline_key); /* [-1, +0] */
  return previous;
}

void ccm_restore_deadline(lua_State *L, lua_Integer deadline) {
  lua_pushinteger(L, deadline);                     /* [-0, +1] */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &deadline_key); /* [-1, +0] */
}

/* Every 1000 instructions is cheap, and reaches `while true do end` within microseconds. The
 * hook stays installed for the whole run (coroutines inherit it), so a signal only has to set
 * `interrupted`: unlike lua.c, whose handler runs on the Lua thread, ours may run on any thread,
 * where calling lua_sethook would race with the Lua thread. (A script that replaces the hook with
 * debug.sethook can then only be interrupted where it waits.) */
void ccm_install_interrupt_hook(lua_State *L) {
  lua_sethook(L, interrupt_hook, LUA_MASKCOUNT, 1000);
}

int ccm_interrupted(void) { return interrupted; }
int ccm_interrupt_signal(void) { return last_signal; }

void ccm_clear_interrupt(int forget_signals) {
  interrupted = 0;
  if (forget_signals) {
    signals_seen = 0;
    last_signal = 0;
  }
}

static void on_signal(int sig) {
  if (signals_seen++ > 0) _exit(128 + sig); /* asked twice: stop now, no cleanup */
  last_signal = sig;
  interrupted = 1;
  if (notify_fd >= 0) {
    unsigned char byte = (unsigned char)sig;
    ssize_t ignored = write(notify_fd, &byte, 1); /* write(2) is async-signal-safe */
    (void)ignored;
  }
}

void ccm_install_signal_handlers(int fd) {
  notify_fd = fd;
  ccm_handle_signals();
}

void ccm_default_signals(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

static void install(int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = flags;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
}

void ccm_handle_signals(void) { install(SA_RESTART); }

/* The same handlers, but a blocking read (the REPL's prompt) returns with EINTR on a signal. */
void ccm_handle_signals_interrupting_reads(void) { install(0); }

/* ---- State creation --------------------------------------------------------------------------- */

static void *alloc_or_abort(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  void *block = realloc(ptr, nsize);
  if (block == NULL) {
    fputs("ccm-lua: out of memory\n", stderr);
    abort();
  }
  return block;
}

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "ccm-lua: unprotected Lua error (a bug in ccm-lua): %s\n", msg ? msg : "?");
  abort();
  return 0;
}

lua_State *ccm_newstate(void) {
  lua_State *L = lua_newstate(alloc_or_abort, NULL);
  if (L != NULL) lua_atpanic(L, panic);
  return L;
}

static int openlibs_protected(lua_State *L) {
  luaL_openlibs(L);
  return 0;
}

int ccm_openlibs(lua_State *L) {
  lua_pushcfunction(L, openlibs_protected);
  int status = lua_pcall(L, 0, 0, 0);
  if (status != LUA_OK) lua_pop(L, 1);
  return status;
}

/* ---- Macro wrappers ------------------------------------------------------------------------- */

int ccm_registryindex(void) { return LUA_REGISTRYINDEX; }
int ccm_upvalueindex(int i) { return lua_upvalueindex(i); }
void ccm_pop(lua_State *L, int n) { lua_pop(L, n); }
void ccm_newtable(lua_State *L) { lua_newtable(L); }
void ccm_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void ccm_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void ccm_replace(lua_State *L, int idx) { lua_replace(L, idx); }
void ccm_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
void ccm_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
const char *ccm_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
lua_Number ccm_tonumber(lua_State *L, int idx, int *isnum) { return lua_tonumberx(L, idx, isnum); }
lua_Integer ccm_tointeger(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
int ccm_isnil(lua_State *L, int idx) { return lua_isnil(L, idx); }
int ccm_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
int ccm_istable(lua_State *L, int idx) { return lua_istable(L, idx); }
int ccm_isfunction(lua_State *L, int idx) { return lua_isfunction(L, idx); }
int ccm_isboolean(lua_State *L, int idx) { return lua_isboolean(L, idx); }
int ccm_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
void *ccm_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }

/* ---- Protected helpers ----------------------------------------------------------------------- */

static int tolstring_protected(lua_State *L) {
  luaL_tolstring(L, 1, NULL); /* may call __tostring, which may raise */
  return 1;
}

int ccm_tolstring(lua_State *L, int idx, const char **s, size_t *len) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, tolstring_protected);
  lua_pushvalue(L, idx);
  int status = lua_pcall(L, 1, 1, 0); /* [-0, +1]: the string or the error value */
  *s = lua_tolstring(L, -1, len);     /* NULL when the error value is not a string */
  return status;
}

static int getfield_protected(lua_State *L) {
  lua_gettable(L, 1); /* t[k], both arguments on the stack; may call __index */
  return 1;
}

int ccm_getfield(lua_State *L, int idx, const char *key) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, getfield_protected);
  lua_pushvalue(L, idx);
  lua_pushstring(L, key);
  return lua_pcall(L, 2, 1, 0); /* [-0, +1]: the value or the error value */
}

static int next_protected(lua_State *L) {
  return lua_next(L, 1) ? 2 : 0; /* table at 1, key at 2 */
}

int ccm_next(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  int base = lua_gettop(L) - 1; /* below the key */
  lua_pushcfunction(L, next_protected);
  lua_pushvalue(L, idx);
  lua_rotate(L, -3, 2); /* [key, f, t] -> [f, t, key] */
  if (lua_pcall(L, 2, LUA_MULTRET, 0) != LUA_OK) return -1;
  return lua_gettop(L) > base ? 1 : 0;
}

/* ---- Messages ----------------------------------------------------------------------------------- */

void ccm_pushargerror(lua_State *L, int arg, const char *extramsg, const char *fallback) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar)) { /* no stack frame? */
    lua_pushfstring(L, "bad argument #%d (%s)", arg, extramsg);
    return;
  }
  lua_getinfo(L, "n", &ar);
  if (ar.namewhat != NULL && strcmp(ar.namewhat, "method") == 0) {
    arg--; /* do not count 'self' */
    if (arg == 0) {
      lua_pushfstring(L, "calling '%s' on bad self (%s)", ar.name, extramsg);
      return;
    }
  }
  const char *name = ar.name != NULL ? ar.name : (fallback != NULL ? fallback : "?");
  lua_pushfstring(L, "bad argument #%d to '%s' (%s)", arg, name, extramsg);
}

void ccm_pushtypeerror(lua_State *L, int arg, const char *expected, const char *fallback) {
  int top = lua_gettop(L);
  const char *actual;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING) /* [-0, +(0|1)] */
    actual = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA)
    actual = "light userdata";
  else
    actual = luaL_typename(L, arg);
  lua_pushfstring(L, "%s expected, got %s", expected, actual); /* [-0, +1] detail */
  ccm_pushargerror(L, arg, lua_tostring(L, -1), fallback);     /* [-0, +1] message */
  lua_replace(L, top + 1);                                      /* message into the first slot */
  lua_settop(L, top + 1);                                       /* drop detail (and __name) */
}

/* ---- Error values ------------------------------------------------------------------------------ */

int ccm_error_tostring(lua_State *L) {
  if (lua_type(L, 1) != LUA_TTABLE) return luaL_error(L, "error value expected");
  lua_pushliteral(L, "where");
  lua_rawget(L, 1);
  lua_pushliteral(L, "message");
  lua_rawget(L, 1);
  const char *where = lua_tostring(L, -2);
  const char *message = lua_tostring(L, -1);
  lua_pushfstring(L, "%s%s", where != NULL ? where : "", message != NULL ? message : "(no message)");
  return 1;
}

/* ---- Error positions ---------------------------------------------------------------------------- */

/* Pushes "chunk:line: " of the first Lua function at `level` or above that is not part of the
 * built-in library (chunks named "@builtin/..."), so an error raised inside cluster.lua or a
 * profile points at the script line that called it; pushes "" when there is none.
 * [-0, +1, m]: lua_getstack and lua_getinfo do not raise. */
void ccm_where_user(lua_State *L, int level) {
  lua_Debug ar;
  for (; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0 && strncmp(ar.source, "@builtin/", 9) != 0) {
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
  }
  lua_pushliteral(L, "");
}
