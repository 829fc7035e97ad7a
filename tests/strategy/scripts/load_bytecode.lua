-- sandbox: load() takes text only; a binary chunk (here a forged header) is refused
local chunk = "\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86\0\0\0\0\0\0\0\0\0\0\0\40\119\64"
local f, err = load(chunk, "=forged", "b")
if not f then error(err, 0) end
return { on_start = function(ctx) f() end }
