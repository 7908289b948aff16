-- Sign POSTs, each with a unique email and its own client address (in
-- X-Forwarded-For, as a proxy would add), an Origin of the site, and the
-- form fields a browser sends.  Counts statuses (302: accepted).
-- Arguments: <email prefix> <origin>

local prefix, origin = "bench", "http://127.0.0.1"
local teams = {"Engineering", "Design", "Support", "Sales", "Data", "Legal", "Research"}
local places = {"Berlin", "London", "Remote", "Toronto", "Dublin"}

function init(args)
  prefix, origin = args[1], args[2]
end

function request()
  sent = sent + 1
  local n = sent
  local body = string.format(
    "name=Bench+Signer+%d&email=%s-%d-%d%%40bench.example&job_title=Engineer" ..
    "&team=%s&location=%s&comment=&display=%s&consent=on&website=",
    n, prefix, id, n, teams[n % #teams + 1], places[n % #places + 1],
    (n % 4 == 0) and "anonymous" or "public")
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Origin"] = origin,
    ["Accept-Language"] = "en",
    ["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", id % 256, math.floor(n / 256) % 256, n % 256),
  }
  return wrk.format("POST", wrk.path, headers, body)
end

function response(status, headers, body)
  count_status(status)
end
