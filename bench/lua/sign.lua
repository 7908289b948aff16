-- Sign POSTs, each with a unique email and its own client address (in
-- X-Forwarded-For, as a proxy would add), an Origin of the site, and the
-- form fields a browser sends.  Counts statuses (302: accepted).
-- Arguments: <email prefix> <origin> [<domains>]: the addresses' domains in
-- turn (comma-separated; a coalition letter's employers' domains, their
-- subdomains, other supporters' domains), bench.example if none.

local prefix, origin = "bench", "http://127.0.0.1"
local domains = {"bench.example"}
local teams = {"Engineering", "Design", "Support", "Sales", "Data", "Legal", "Research"}
local places = {"Berlin", "London", "Remote", "Toronto", "Dublin"}

function init(args)
  prefix, origin = args[1], args[2]
  if args[3] and args[3] ~= "" then
    domains = {}
    for domain in string.gmatch(args[3], "[^,]+") do
      table.insert(domains, domain)
    end
  end
end

function request()
  sent = sent + 1
  local n = sent
  local body = string.format(
    "name=Bench+Signer+%d&email=%s-%d-%d%%40%s&job_title=Engineer" ..
    "&team=%s&location=%s&comment=&display=%s&consent=on&website=",
    n, prefix, id, n, domains[n % #domains + 1], teams[n % #teams + 1], places[n % #places + 1],
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
