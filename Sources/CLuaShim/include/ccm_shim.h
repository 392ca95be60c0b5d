#ifndef CCM_SHIM_H
#define CCM_SHIM_H
/*
 * The C boundary between Swift and Lua (see docs/architecture.md).
 *
 * Lua raises errors and yields with longjmp. A longjmp across a Swift frame skips releases and
 * `defer` and can leave locks held, so:
 *   - every Lua-callable Swift function is reached through ccm_trampoline: the Swift side returns
 *     a status, and only after its frame is gone does C call lua_error or lua_yieldk;
 *   - Swift calls only API functions marked `-` or `m` in the manual (the allocator aborts on
 *     out-of-memory, so `m` cannot raise either); everything marked `e` goes through a protected
 *     helper below that reports failure as a status with the error value pushed.
 */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>

/* ---- Statuses a Swift binding returns to the trampoline ---------------------------------- */

/* n >= 0: the binding pushed n results. */
#define CCM_STATUS_ERROR (-1) /* the error value is on top; the trampoline raises it */
#define CCM_STATUS_YIELD (-2) /* the binding registered a pending operation; yield to the scheduler */

/* Calls the Swift function `function` (an opaque pointer the Swift side gave ccm_pushfunction). */
typedef int (*ccm_dispatch_fn)(lua_State *L, void *function);

/* Sets the one Swift entry point every trampoline calls. Call once, before any Lua runs. */
void ccm_set_dispatch(ccm_dispatch_fn dispatch);

/* [-n, +1, m] Pushes a C closure that calls `function` through the trampoline. The n values on
 * top become upvalues 2..n+1 (upvalue 1 is `function` itself). */
void ccm_pushfunction(lua_State *L, void *function, int n);

/* [-0, +1, -] Pushes the value a suspended binding yields, so the scheduler can tell a host
 * suspension apart from a user's coroutine.yield. */
void ccm_pushsentinel(lua_State *L);
int ccm_issentinel(lua_State *L, int idx);

/* ---- Interrupts (Ctrl-C) -------------------------------------------------------------------- */

/* Installs a count hook on L (new coroutines inherit it) that raises "interrupted!" once a
 * signal came, and keeps raising it so a pcall loop cannot swallow it. */
void ccm_install_interrupt_hook(lua_State *L);
/* The same hook also raises CCM_DEADLINE_MESSAGE once a deadline set here has passed, so a
 * loop that never yields still ends (the runner's per-test time limit). Sets the deadline
 * `seconds` from now (0: none) and returns the previous one, for ccm_restore_deadline. */
#define CCM_DEADLINE_MESSAGE "ccm-lua: the time limit passed while Lua code ran without waiting"
lua_Integer ccm_set_deadline(lua_State *L, double seconds);
void ccm_restore_deadline(lua_State *L, lua_Integer deadline);
/* Whether SIGINT/SIGTERM came (and was not cleared). */
int ccm_interrupted(void);
/* The signal that caused the interrupt (SIGINT, SIGTERM), or 0. */
int ccm_interrupt_signal(void);
/* Puts SIGINT/SIGTERM back to their defaults (the REPL does this while waiting for input, as
 * lua.c does), or re-installs the handlers. */
void ccm_default_signals(void);
void ccm_handle_signals(void);
/* As ccm_handle_signals, but a blocking read returns (EINTR) when a signal comes: the REPL's
 * prompt, where Ctrl-C ends the session and the cleanup registry still runs. */
void ccm_handle_signals_interrupting_reads(void);
/* Clears the interrupt. With forget_signals, the next signal counts as a first one again (the
 * REPL after an interrupted line); without, a second Ctrl-C during cleanup still exits at once. */
void ccm_clear_interrupt(int forget_signals);
/* Installs SIGINT/SIGTERM handlers: first signal -> the interrupted flag and one byte
 * (the signal number) written to `notify_fd`; a second signal exits at once with 128+signal. */
void ccm_install_signal_handlers(int notify_fd);

/* ---- State creation -------------------------------------------------------------------------- */

/* A new state whose allocator aborts on out-of-memory (so `m` functions never longjmp). */
lua_State *ccm_newstate(void);
/* Opens the standard libraries in protected mode; LUA_OK or an error status. */
int ccm_openlibs(lua_State *L);

/* ---- Function-like macros Swift cannot import -------------------------------------------- */

int ccm_registryindex(void);
int ccm_upvalueindex(int i);
void ccm_pop(lua_State *L, int n);
void ccm_newtable(lua_State *L);
void ccm_remove(lua_State *L, int idx);
void ccm_insert(lua_State *L, int idx);
void ccm_replace(lua_State *L, int idx);
void ccm_pushcfunction(lua_State *L, lua_CFunction f);
void ccm_pushglobaltable(lua_State *L);
const char *ccm_tostring(lua_State *L, int idx); /* lua_tolstring: converts numbers in place */
lua_Number ccm_tonumber(lua_State *L, int idx, int *isnum);
lua_Integer ccm_tointeger(lua_State *L, int idx, int *isnum);
int ccm_isnil(lua_State *L, int idx);
int ccm_isnoneornil(lua_State *L, int idx);
int ccm_istable(lua_State *L, int idx);
int ccm_isfunction(lua_State *L, int idx);
int ccm_isboolean(lua_State *L, int idx);
/* lua_pcall: safe to call from Swift, it never longjmps past its caller. */
int ccm_pcall(lua_State *L, int nargs, int nresults, int msgh);
void *ccm_newuserdata(lua_State *L, size_t size);

/* ---- Protected helpers for `e` operations --------------------------------------------------- */
/* Each returns LUA_OK with its result pushed, or an error status with the error value pushed. */

/* luaL_tolstring (honours __tostring and __name); *len receives the length. */
int ccm_tolstring(lua_State *L, int idx, const char **s, size_t *len);
/* t[k] with metamethods, t at idx, k the string `key`. */
int ccm_getfield(lua_State *L, int idx, const char *key);

/* Like lua_next: pops the key at the top and pushes the next key and value (returns 1), or
 * nothing at the end (returns 0); an error (an invalid key) returns -1 with the error value. */
int ccm_next(lua_State *L, int idx);

/* ---- Messages built without raising ----------------------------------------------------------- */

/* [-0, +1, m] Pushes luaL_argerror's text for argument `arg` of the running C function, e.g.
 * "bad argument #1 to 'sleep' (number expected, got string)", without the position prefix.
 * `fallback` names the function when the call site does not (e.g. called through a local). */
void ccm_pushargerror(lua_State *L, int arg, const char *extramsg, const char *fallback);
/* [-0, +1, m] The same for a type mismatch, with luaL_typeerror's "T expected, got U" as the
 * detail (honours __name, so userdata read as "Cluster expected, got Node"). */
void ccm_pushtypeerror(lua_State *L, int arg, const char *expected, const char *fallback);

/* ---- Error values -------------------------------------------------------------------------- */

/* __tostring of the shared error metatable: t.where .. t.message (both read raw). */
int ccm_error_tostring(lua_State *L);

/* "chunk:line: " of the first caller at `level` or above outside the built-in library. */
void ccm_where_user(lua_State *L, int level);

#endif
