-- hostile (point 2): coroutine.close nested through __close handlers 20,000
-- deep overflowed the C stack of Debian's Lua 5.4.4 (SIGSEGV). The sandbox
-- bounds the C stack closing may use: refused with a message, host alive.
local N = 20000
local cos = {}
for i = 1, N do
  cos[i] = coroutine.create(function()
    local guard <close> = setmetatable({}, { __close = function()
      local nxt = cos[i + 1]
      if nxt then
        local ok, err = coroutine.close(nxt)
        if not ok then error(err, 0) end
      end
    end })
    coroutine.yield()
  end)
  coroutine.resume(cos[i])
end
return {
  on_start = function(ctx)
    local ok, err = coroutine.close(cos[1])
    if not ok then error(err, 0) end
  end,
}
