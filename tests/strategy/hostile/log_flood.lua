-- hostile (point 7): ctx:log without limits wrote ~70 MB per bar. Capped per
-- callback (and per run): the truncation is said once.
local line = string.rep("x", 70000)
return { on_bar = function(ctx, bar) for i = 1, 1000 do ctx:log(line) end end }
