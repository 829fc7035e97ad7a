-- hostile (point 10): the same in on_bar blamed the next callback.
local function loop() while true do end end
return {
  on_bar = function(ctx, bar) return pcall(loop) end,
  on_top = function(ctx, top) end,
}
