-- hostile (point 5): utf8.len over 30 MB costs milliseconds for a handful of
-- counted instructions; now one per 4 bytes is charged.
local s = string.rep("a", 30000000)
return { on_start = function(ctx) while true do utf8.len(s) end end }
