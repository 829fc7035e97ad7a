-- hostile (point 3): the kill is raised inside the count hook, where hooks are
-- off, and an xpcall message handler ran right there, unhooked, for ever.
return {
  on_start = function(ctx)
    xpcall(function() while true do end end, function() while true do end end)
  end,
}
