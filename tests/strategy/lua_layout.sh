#!/bin/sh
# lua_layout.sh BINARY: is the statically linked interpreter's main loop at
# one of the fast offsets? luaV_execute at 32 or 48 modulo 64 runs the Lua
# callbacks 6-7% faster than at 0 or 16 (docs/performance.md, "Issue 23
# (lua24)"); host/lua_text.ld places it so, by the order of liblua5.4.a's
# objects. A new Debian liblua5.4 can move it: this says so, and where.
bin=$1
[ -x "$bin" ] || { echo "lua_layout: $bin: not an executable"; exit 1; }
addr=$(nm "$bin" | awk '$3 == "luaV_execute" { print $1; exit }')
if [ -z "$addr" ]; then
    echo "lua_layout: no luaV_execute in $bin: liblua5.4 is not linked statically, so host/lua_text.ld does not apply"
    exit 1
fi
sec=$(objdump -h "$bin" | awk '$2 == ".text.lua" { print $4; exit }')
[ -n "$sec" ] || { echo "lua_layout: $bin has no .text.lua section (host/lua_text.ld not applied)"; exit 1; }
off=$(( 0x$addr % 64 ))
case $off in
32|48) echo "lua_layout: luaV_execute at 0x$addr, $off modulo 64 (a fast offset); .text.lua at 0x$sec" ;;
*) echo "lua_layout: luaV_execute at 0x$addr is $off modulo 64, a slow offset (0 and 16 measured 6-7% slower):"
   echo "  liblua5.4.a changed; reorder the objects in host/lua_text.ld (or pad before lvm.o) until it is 32 or 48"
   exit 1 ;;
esac
