#ifndef CCM_SHIM_H
#define CCM_SHIM_H
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#endif
