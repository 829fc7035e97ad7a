-- sandbox: a backtracking pattern runs in C, where the count hook never fires;
-- the sandbox's matcher charges the instruction budget instead. pcall around
-- it cannot save the strategy: once killed, every instruction raises.
return {
  on_start = function(ctx)
    local s = string.rep("a", 20000)
    local ok = pcall(function() return s:find(".-.-.-b") end)
    if not ok then return end -- only reached if the kill was swallowed
  end,
}
