-- hostile (point 5): an __index chain 2,000 tables deep is walked in C, one
-- counted instruction per lookup. Built front to back (each link's target has
-- no metatable yet, so the sandbox's depth check at setmetatable sees depth 1);
-- the CPU-time backstop stops it.
local t = {}
for i = 1, 2000 do t[i] = {} end
for i = 1, 1999 do setmetatable(t[i], { __index = t[i + 1] }) end
return { on_start = function(ctx) while true do local _ = t[1].missing end end }
