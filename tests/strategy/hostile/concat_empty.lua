-- hostile (point 5): table.concat of 2M empty strings, a few instructions a call.
local t = {}
for i = 1, 2000000 do t[i] = "" end
return { on_start = function(ctx) while true do table.concat(t) end end }
