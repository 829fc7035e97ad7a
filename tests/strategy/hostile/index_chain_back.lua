-- hostile (point 5): the same chain built back to front: refused by
-- setmetatable once it is deeper than 100 tables.
local t = {}
for i = 1, 2000 do t[i] = {} end
for i = 1999, 1, -1 do setmetatable(t[i], { __index = t[i + 1] }) end
return { on_start = function(ctx) end }
