-- hostile (point 10): `return pcall(loop)` ends on_stop with the caught kill
-- in a tail call, before the hook raises it again: it was reported a success.
local function loop() while true do end end
return { on_stop = function(ctx) return pcall(loop) end }
