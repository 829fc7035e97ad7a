-- sandbox: gsub tries the same quadratic pattern at every position
return {
  on_start = function(ctx)
    local s = string.rep("a", 20000)
    local out = s:gsub(".-.-b", "x")
    ctx:log(out)
  end,
}
