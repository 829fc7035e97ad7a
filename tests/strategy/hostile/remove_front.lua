-- hostile (point 5): table.remove at index 1 of 2M items, the same.
local t = {}
for i = 1, 2000000 do t[i] = i end
return { on_start = function(ctx) while true do table.remove(t, 1); t[#t + 1] = 0 end end }
