-- sandbox: no io library, so no file can be opened
return {
  on_start = function(ctx)
    local f = io.open("/etc/passwd", "r")
    ctx:log(f:read("a"))
  end,
}
