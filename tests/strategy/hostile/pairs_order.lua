-- hostile (determinism): stock pairs walked string keys in an order seeded
-- from the clock and addresses at every start, so a strategy that traded in
-- pairs order traded differently on each run. The sandbox's pairs sorts:
-- numbers, strings bytewise, false, true; two runs log the same lines.
return {
  on_start = function(ctx)
    local t = {}
    for _, k in ipairs{"kappa", "alpha", "beta", "a", "B", "ab", "", "zeta"} do t[k] = #k end
    for _, k in ipairs{3, -1.5, 2.5, 1, 1e300, -7, 2^53, math.mininteger} do t[k] = "n" end
    t[true], t[false] = "t", "f"
    local s = {}
    for k in pairs(t) do s[#s + 1] = tostring(k) end
    ctx:log("order " .. table.concat(s, ","))
    -- clearing and assigning existing fields while walking, as stock Lua allows
    local seen = {}
    for k, v in pairs(t) do
      if k == "alpha" then t.beta = nil; t.zeta = "changed" end
      seen[#seen + 1] = tostring(k) .. "=" .. tostring(v)
    end
    ctx:log("walk " .. table.concat(seen, ","))
    -- a __pairs metamethod is honoured
    local p = setmetatable({}, {__pairs = function(self)
      local i = 0
      return function() i = i + 1; if i <= 2 then return i, "meta" end end, self, nil
    end})
    local m = {}
    for k, v in pairs(p) do m[#m + 1] = k .. v end
    ctx:log("meta " .. table.concat(m, ","))
    -- an empty table, and next() still answers emptiness
    for _ in pairs({}) do ctx:log("never") end
    ctx:log("empty " .. tostring(next({}) == nil))
  end,
}
