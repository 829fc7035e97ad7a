-- sandbox: table.sort compares in C, n log n times for one VM instruction, so
-- a loop of big sorts ran for seconds (minutes with a larger loop) within the
-- instruction budget. The sandbox charges n log n before each sort.
return {
  on_start = function(ctx)
    local t = {}
    for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
    for k = 1, 300 do table.sort(t, nil) ; t[1], t[#t] = t[#t], t[1] end
  end,
}
