-- hostile (point 5): table.insert at index 1 of 2M items shifts them all in C.
local t = {}
for i = 1, 2000000 do t[i] = i end
return { on_start = function(ctx) while true do table.insert(t, 1, 0) end end }
