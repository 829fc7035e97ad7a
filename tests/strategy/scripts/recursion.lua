-- sandbox: unbounded recursion ends in a Lua error, not a crashed host
local function down(n) return 1 + down(n + 1) end
return {
  on_start = function(ctx)
    return down(1)
  end,
}
