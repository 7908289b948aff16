-- Conditional GETs, as a browser revalidating: If-None-Match with the last
-- ETag seen (the first from the runner; a 200 hands over a new one, as when
-- the cached page was rebuilt).  Counts statuses (304 vs 200).

local etag = nil

function init(args)
  etag = args[1]
end

function request()
  sent = sent + 1
  return wrk.format("GET", wrk.path, {["If-None-Match"] = etag})
end

function response(status, headers, body)
  count_status(status)
  local tag = headers["ETag"] or headers["etag"]
  if status == 200 and tag then
    etag = tag
  end
end
