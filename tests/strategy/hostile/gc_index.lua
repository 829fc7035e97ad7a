-- hostile (point 3): the metatable's own __index installs __gc just in time
-- for the host's check, so a never-ending finalizer ran with hooks off (during
-- the run or in lua_close). The check reads raw: no __gc is seen, and Lua,
-- which also reads raw, never marks the object: the finalizer never runs.
local mt = setmetatable({}, { __index = function(t, k)
  if k == "__gc" then rawset(t, "__gc", function() while true do end end) end
end })
local keep = setmetatable({}, mt)
return {
  on_start = function(ctx) ctx:log("mt.__gc seen by a normal read:", mt.__gc ~= nil) end,
  on_stop = function(ctx) ctx:log("stopped, object kept:", keep ~= nil) end,
}
