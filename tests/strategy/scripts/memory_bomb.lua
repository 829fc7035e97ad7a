-- sandbox: the memory cap stops a script that keeps allocating
return {
  on_start = function(ctx)
    local t = {}
    local s = "x"
    for i = 1, 1e9 do
      t[i] = s .. i
      s = s .. s:sub(1, 64)
    end
  end,
}
