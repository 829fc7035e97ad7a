-- hostile (point 5): table.unpack of 990,000 values in one call.
local t = {}
for i = 1, 990000 do t[i] = i end
return { on_start = function(ctx) while true do select("#", table.unpack(t)) end end }
