-- sandbox: os is not there, so os.execute cannot run a command
return {
  on_start = function(ctx)
    os.execute("touch /tmp/bourse_sandbox_escaped")
  end,
}
