-- hostile (point 10): after one caught memory error, every later plain
-- error() read "not enough memory".
return {
  on_start = function(ctx)
    local ok, err = pcall(string.rep, "x", 1 << 30)
    ctx:log("caught:", ok, err)
    error("a plain error after a caught memory error")
  end,
}
