-- hostile (point 5): table.sort on a proxy whose __len claims 1M: the charge
-- read the raw length (0) while the sort used 1M.
local proxy = setmetatable({}, {
  __len = function() return 1000000 end,
  __index = function(t, i) return (i * 7919) % 1000003 end,
  __newindex = function() end,
})
return { on_start = function(ctx) while true do table.sort(proxy) end end }
