-- sandbox: C functions that copy (s:upper(), `..`, string.rep...) work in
-- proportion to what they allocate, and the count hook sees one instruction
-- per call. Each upper() of 4 MB costs a few VM instructions but a copy of
-- 4 MB: without charging allocations this loop (2000 x 4 MB) ran to the end
-- within the budget, and with a larger count for hours. Allocations are
-- charged (one instruction per 16 bytes), so the budget stops it; the pcall
-- around the loop does not save the strategy.
return {
  on_start = function(ctx)
    local s = string.rep("x", 4 * 1024 * 1024)
    pcall(function()
      for i = 1, 2000 do local t = s:upper() end
    end)
    for i = 1, 2000 do local t = s:lower() end
  end,
}
