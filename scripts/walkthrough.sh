#!/usr/bin/env bash
# The main product flow, end to end, against a running Tenantry (the README's walkthrough, runnable):
# register a company → invite a manager (link read from the mail outbox) → accept → bind a connector to a local
# test endpoint → start a catalog template run that parks → approve it as the manager (four-eyes) → read the
# timeline → verify the audit trail.
#
# Start the server first, allowing the local test endpoint (connectors refuse loopback addresses otherwise):
#   CONNECTOR_ALLOWED_HOSTS=127.0.0.1 npm start
# then, in another terminal:
#   scripts/walkthrough.sh                 # PORT / DATA_DIR as given to npm start, if you changed them
#
# Needs bash, curl and node (any version; it only parses JSON). Every variable is defined below.
set -euo pipefail

PORT=${PORT:-3000}                              # the port npm start listens on
API=${API:-http://127.0.0.1:$PORT}              # base URL of the API
DATA_DIR=${DATA_DIR:-.data}                     # DATA_DIR of the server (its mail outbox is $DATA_DIR/mail)
MAIL_DIR=${MAIL_OUTBOX_DIR:-$DATA_DIR/mail}     # where the server writes mail as .eml files (no SMTP_URL)
ENDPOINT_PORT=${ENDPOINT_PORT:-4010}            # the local test endpoint the connector calls
RUN_ID_SUFFIX=$(date +%s)                       # makes the e-mail addresses unique per run of this script
OWNER_EMAIL="owner-$RUN_ID_SUFFIX@acme.test"
MANAGER_EMAIL="manager-$RUN_ID_SUFFIX@acme.test"
PASSWORD='correct horse battery staple'         # at least 12 characters
TEMPLATE_KEY='sales.trial-extension'            # catalog template: manager approval, then one tool call
TOOL_ID='billing.trial.extend'                  # the tool that template's step calls

# Reads JSON on stdin and prints one field: `field .company.id`.
field() { node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const v=new Function("j","return j"+process.argv[1])(JSON.parse(s));process.stdout.write(typeof v==="string"?v:JSON.stringify(v));})' "$1"; }
# curl that prints the body and fails on an HTTP error, showing the problem+json.
call() {
  local out status
  out=$(curl -sS -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $status -ge 400 ]]; then
    echo "HTTP $status from: curl $*" >&2
    echo "$out" >&2
    return 1
  fi
  printf '%s' "$out"
}
step() { printf '\n== %s\n' "$*"; }

step "0. The server is ready"
call "$API/health/ready"; echo

step "1. Register: creates the user, the company and makes the user its owner"
SESSION=$(call -X POST "$API/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$OWNER_EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Olivia Owner\",\"companyName\":\"Acme $RUN_ID_SUFFIX\"}")
COMPANY=$(field .company.id <<<"$SESSION")        # the company's id
OWNER=$(field .accessToken <<<"$SESSION")         # the owner's access token
echo "COMPANY=$COMPANY"

step "2. Invite a manager; the invitation mail lands in $MAIL_DIR"
call -X POST "$API/v1/companies/$COMPANY/invitations" -H "authorization: Bearer $OWNER" \
  -H 'content-type: application/json' -d "{\"email\":\"$MANAGER_EMAIL\",\"role\":\"manager\"}"; echo
MAIL=""
for _ in $(seq 1 30); do                          # the outbox is drained right after the invitation commits
  MAIL=$(grep -l "^To: $MANAGER_EMAIL" "$MAIL_DIR"/*.eml 2>/dev/null | tail -1 || true)
  [[ -n $MAIL ]] && break
  sleep 1
done
[[ -n $MAIL ]] || { echo "no invitation mail for $MANAGER_EMAIL in $MAIL_DIR (DATA_DIR of the server?)" >&2; exit 1; }
LINK=$(grep -m1 -o 'http[^ ]*/invitations/accept?token=inv_[A-Za-z0-9_-]*' "$MAIL")   # the accept link
TOKEN=${LINK##*token=}                            # the invitation token (inv_…)
echo "mail: $MAIL"
echo "link: $LINK"

step "3. Accept the invitation as a new account (what the link's page does)"
MANAGER_SESSION=$(call -X POST "$API/v1/invitations/accept" -H 'content-type: application/json' \
  -d "{\"token\":\"$TOKEN\",\"name\":\"Mia Manager\",\"password\":\"$PASSWORD\"}")
MANAGER=$(field .accessToken <<<"$MANAGER_SESSION")   # the manager's access token
echo "manager role: $(field .role <<<"$MANAGER_SESSION")"

step "4. A local test endpoint for the connector (answers JSON, logs each call)"
node -e 'require("http").createServer((q,r)=>{let b="";q.on("data",(c)=>(b+=c)).on("end",()=>{console.log("endpoint called:",q.method,q.url,b);r.setHeader("content-type","application/json");r.end(JSON.stringify({extended:true,until:"2027-01-31"}));});}).listen(+process.argv[1],"127.0.0.1")' "$ENDPOINT_PORT" &
ENDPOINT_PID=$!
trap 'kill $ENDPOINT_PID 2>/dev/null || true' EXIT
sleep 1

step "5. Bind the template's tool to that endpoint (an admin or the owner)"
CONNECTOR=$(call -X POST "$API/v1/connectors" -H "authorization: Bearer $OWNER" -H 'content-type: application/json' \
  -d "{\"toolId\":\"$TOOL_ID\",\"endpointUrl\":\"http://127.0.0.1:$ENDPOINT_PORT/extend\",\"authScheme\":\"none\"}") || {
  echo "A 400 naming CONNECTOR_ALLOWED_HOSTS means the server refuses loopback endpoints:" >&2
  echo "restart it with CONNECTOR_ALLOWED_HOSTS=127.0.0.1 npm start" >&2
  exit 1
}
echo "connector: $(field .id <<<"$CONNECTOR") → $(field .endpointUrl <<<"$CONNECTOR")"

step "6. Start a run of the catalog template $TEMPLATE_KEY (as the owner)"
TEMPLATE=$(call "$API/v1/templates?category=sales&limit=100" -H "authorization: Bearer $OWNER" |
  field ".data.find((t) => t.key === '$TEMPLATE_KEY').id")   # the template's id
RUN=$(call -X POST "$API/v1/runs" -H "authorization: Bearer $OWNER" -H 'content-type: application/json' \
  -H "Idempotency-Key: walkthrough-$RUN_ID_SUFFIX" \
  -d "{\"templateId\":\"$TEMPLATE\",\"input\":{\"accountId\":\"acct-42\",\"extraDays\":14,\"reason\":\"Evaluating the enterprise plan\"}}" |
  field .id)                                      # the run's id
echo "RUN=$RUN"

wait_for() {                                      # polls the run until its status is $1
  local status=""
  for _ in $(seq 1 60); do
    status=$(call "$API/v1/runs/$RUN" -H "authorization: Bearer $OWNER" | field .status)
    [[ $status == "$1" ]] && { echo "run is $status"; return 0; }
    sleep 1
  done
  echo "run is $status, expected $1" >&2
  return 1
}
wait_for parked

step "7. Four-eyes: the owner started the run, so the owner may not approve it (403)"
curl -sS -o /dev/null -w 'owner approving: HTTP %{http_code}\n' -X POST "$API/v1/runs/$RUN/verdict" \
  -H "authorization: Bearer $OWNER" -H 'content-type: application/json' -d '{"decision":"approve"}'

step "8. Approve as the manager; the run resumes and calls the endpoint"
call -X POST "$API/v1/runs/$RUN/verdict" -H "authorization: Bearer $MANAGER" -H 'content-type: application/json' \
  -d '{"decision":"approve","comment":"Within policy"}' >/dev/null
echo "approved by the manager"
wait_for succeeded

step "9. The run's timeline (oldest first)"
call "$API/v1/runs/$RUN/events?limit=100" -H "authorization: Bearer $OWNER" | field '.data.map((e) => e.type).join(" → ")'
echo

step "10. The company's audit trail (newest first), and its hash chain verified"
call "$API/v1/audit-events?limit=20" -H "authorization: Bearer $OWNER" | field '.data.map((e) => e.action).join(", ")'
echo
VERIFY=$(call "$API/v1/audit-events/verify" -H "authorization: Bearer $OWNER")
echo "$VERIFY"
[[ $(field .valid <<<"$VERIFY") == true ]]

printf '\nWalkthrough complete.\n'
