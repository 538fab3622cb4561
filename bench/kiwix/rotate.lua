-- wrk script for bench/kiwix.sh: every thread walks the list of URLs given
-- as the script argument (one per line), each starting at its own place.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local urls = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then urls[#urls + 1] = line end
  end
  if #urls == 0 then error("rotate.lua: no URLs in " .. tostring(args[1])) end
  i = (id or 0) * 7919 % #urls
end

function request()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end
