-- sandbox: gmatch searches inside its iterator, a C function
return {
  on_start = function(ctx)
    local s = string.rep("a", 20000)
    for w in s:gmatch(".-.-b") do ctx:log(w) end
  end,
}
