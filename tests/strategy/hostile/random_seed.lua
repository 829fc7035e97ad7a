-- hostile (point 9): math.randomseed() reseeded from the clock (and returned
-- time(NULL)); tostring({}) showed an ASLR address. Both are the same on
-- every run now: two runs log the same lines.
return {
  on_start = function(ctx)
    ctx:log("randomseed()", math.randomseed())
    ctx:log("random", math.random(1, 1000000000), math.random())
    local t, f = {}, function() end
    ctx:log(tostring(t), tostring(f), tostring(coroutine.create(f)), tostring(t))
    ctx:log(string.format("%s %s", t, print), ctx)
    print(t, f)
  end,
}
