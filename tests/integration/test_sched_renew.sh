# The scheduler against aclm's own CA: `aclm jobs run --once` plans a renew job for a lineage
# that is due (its ARI window has passed) and renews it; nothing is planned for a fresh one.
# The crash test: the renew job is killed at a test-only crash point after the CA issued
# (ACLM_TEST_CRASH_AT=after-finalize); the job stays claimed until its lease expires, then the
# next run resumes the stored order: exactly one new certificate at the CA. A renewal that keeps
# failing is retried after the backoff, then dead with a job_dead alert (and renew_failed).
. "$ACLM_SRC/tests/integration/lib.sh"
. "$ACLM_SRC/tests/integration/aclm_ca.sh"

start_aclm_ca p256
issue() { ca_issue "$@"; }
live=$ACLM_HOME/live
# The webhook receiver: writes its port to DIR/port, each request to DIR/req-N.json.
mkdir -p "$T/http"
printf 'whsec-0123456789abcdef\n' >"$T/hook.secret"
chmod 600 "$T/hook.secret"
python3 "$LIB_DIR/notify_http.py" "$T/http" "$T/hook.secret" >"$T/http/log" 2>&1 &
bg_track $!
for _ in $(seq 1 100); do [ -s "$T/http/port" ] && break; sleep 0.1; done
[ -s "$T/http/port" ] || { cat "$T/http/log" >&2; fail "webhook receiver did not start"; }
# jitter 0: run at the renewal point; a 6 s lease so that the test waits little for a dead
# worker's job; retries 2 s (+-20 %) apart, dead after the second attempt.
cat >"$ACLM_HOME/aclm.conf" <<EOF
[renew]
jitter = 0
[sched]
lease_s = 6
backoff_s = 2
max_attempts = 2
[alerts]
channels = hook
[notify.hook]
type = webhook
url = http://127.0.0.1:$(cat "$T/http/port")/webhook
secret_file = $T/hook.secret
timeout_ms = 5000
EOF
# delivered KIND: "COUNT VERIFIED": the webhooks received for alerts of KIND, and whether the
# receiver verified the signature of each.
delivered() {
	python3 - "$T/http" "$1" <<'EOF'
import glob, json, sys
reqs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/req-*.json")]
hits = [r for r in reqs if r["body"].get("event") == "alert." + sys.argv[2]]
print(len(hits), all(r["status"] == 204 for r in hits))
EOF
}
# ca_count: the certificates the CA has issued.
ca_count() {
	aclm_ca ca certs --format json >"$T/ca-certs.json" 2>"$T/ca-certs.err" ||
		{ cat "$T/ca-certs.err" >&2; fail "aclm ca certs"; }
	json_get "$T/ca-certs.json" 'len(d)'
}
# make_due LINEAGE [HTTP_LISTEN]: the lineage keeps an ARI window that ended an hour ago (the CA
# wants it replaced), as `aclm renew` stores it; HTTP_LISTEN replaces its http-01 listener.
make_due() {
	python3 - "$(db_path)" "$1" "${2:-}" <<'EOF'
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
opts, ari_id = db.execute("select options, ari_id from lineages where name = ?", (sys.argv[2],)).fetchone()
assert ari_id, "the lineage has no ARI id"
o = json.loads(opts)
now = int(time.time())
o["ari"] = {"start": now - 7200, "end": now - 3600, "renew_at": now - 3600}
if sys.argv[3]:
    o["http_listen"] = sys.argv[3]
db.execute("update lineages set options = ?, next_check = ? where name = ?",
           (json.dumps(o), now + 86400, sys.argv[2]))
db.commit()
EOF
}
# jobs_json: `aclm jobs list --format json` into $T/jobs.json.
jobs_json() {
	ok jobs list --format json
	cp "$OUT" "$T/jobs.json"
}

note "a fresh lineage: nothing to plan, nothing to run"
expect_exit 0 issue -d sched.example.test --profile shortlived
first=$(pem_fp "$live/sched.example.test/cert.pem")
ok jobs run --once
expect_eq "$(out)" "0 jobs run" "jobs run on a fresh lineage"
jobs_json
json_check "$T/jobs.json" "d == []" "no job for a fresh lineage"

note "due by its ARI window: the renew job is killed after the CA issued"
make_due sched.example.test
before=$(ca_count)
expect_exit 137 env ACLM_TEST_CRASH_AT=after-finalize "$ACLM_BIN" jobs run --once
expect_contains "$(err)" "test crash point after-finalize"
expect_eq "$(ca_count)" "$((before + 1))" "certificates at the CA after the crash"
jobs_json
renew_jobs="[j for j in d if j['kind'] == 'renew']"
json_check "$T/jobs.json" "(lambda r: len(r) == 1 and r[0]['key'] == 'sched.example.test')($renew_jobs)" \
	"one renew job"
json_check "$T/jobs.json" "(lambda r: r[0]['state'] == 'running' and r[0]['attempts'] == 1)($renew_jobs)" \
	"the crashed job is still claimed by the dead worker"

note "its lease has not expired: nobody takes it (and the planner adds no second job)"
# (the overdue alert's notify job, queued behind the renewal, is delivered now)
ok jobs run --once
expect_eq "$(out)" "1 job run" "jobs run while the lease holds: the notification only"
jobs_json
json_check "$T/jobs.json" "(lambda r: len(r) == 1 and r[0]['state'] == 'running')($renew_jobs)" \
	"still one claimed renew job"

note "after the lease: the job is claimed again and resumes the stored order"
sleep 7
ok jobs run --once
expect_eq "$(out)" "1 job run" "jobs run after the lease expired"
jobs_json
json_check "$T/jobs.json" "(lambda r: len(r) == 1 and r[0]['state'] == 'done' and r[0]['attempts'] == 2)($renew_jobs)" \
	"the job is done at its second attempt"
expect_eq "$(ca_count)" "$((before + 1))" "certificates at the CA: exactly one new"
renewed=$(pem_fp "$live/sched.example.test/cert.pem")
expect_ne "$renewed" "$first" "the lineage's certificate"
json_check "$T/jobs.json" "($renew_jobs)[0]['result']['fingerprint'] == '$renewed'" "the job's result"
ok jobs run --once
expect_eq "$(out)" "0 jobs run" "nothing due after the renewal"
# The old certificate was past its renewal point (the window's end) when the crashed run
# planned: overdue, once; the renewed one is fresh.
ok alerts list --format json
json_check "$OUT" "[a['kind'] for a in d] == ['overdue'] and 'sched.example.test' in d[0]['message']" \
	"one overdue alert, for the certificate being replaced"
expect_eq "$(delivered overdue)" "1 True" "overdue alerts delivered to the webhook (count, verified)"
jobs_json
json_check "$T/jobs.json" "[j['state'] for j in d if j['kind'] == 'notify'] == ['done']" "the notify job"

note "a renewal that keeps failing: retried after the backoff, then dead with job_dead"
expect_exit 0 issue -d fail.example.test
make_due fail.example.test "127.0.0.1:$(free_port)" # the CA's validation finds no one
expect_exit 0 aclm jobs run --once
for _ in 1 2 3 4 5 6; do
	jobs_json
	state=$(json_get "$T/jobs.json" "[j for j in d if j['key'] == 'fail.example.test'][0]['state']")
	[ "$state" = dead ] && break
	expect_eq "$state" queued "the failed job waits for its retry"
	sleep 1.5
	expect_exit 0 aclm jobs run --once
done
expect_eq "$state" dead "the job after max_attempts"
json_check "$T/jobs.json" "[j for j in d if j['key'] == 'fail.example.test'][0]['attempts'] == 2" \
	"attempts of the dead job"
ok alerts list --format json
cp "$OUT" "$T/alerts.json"
json_check "$T/alerts.json" "len([a for a in d if a['kind'] == 'job_dead']) == 1" "one job_dead alert"
json_check "$T/alerts.json" \
	"len([a for a in d if a['kind'] == 'renew_failed' and a['object'] == 'lineage:fail.example.test']) == 1" \
	"one renew_failed alert per certificate, not one per attempt"
expect_eq "$(delivered job_dead)" "1 True" "job_dead delivered"
expect_eq "$(delivered renew_failed)" "1 True" "renew_failed delivered once"
ok jobs run --once
expect_eq "$(out)" "0 jobs run" "a dead renewal is not planned again"

note "jobs retry: the dead job is queued again"
dead=$(json_get "$T/jobs.json" "[j for j in d if j['key'] == 'fail.example.test'][0]['id']")
ok jobs retry "$dead"
ok jobs list --state queued --format json
json_check "$OUT" "len(d) == 1 and d[0]['id'] == $dead and d[0]['attempts'] == 0" "the revived job"
expect_exit 1 aclm jobs retry "$dead"
expect_contains "$(err)" "no such dead job"
expect_exit 2 aclm jobs list --state nope
expect_exit 2 aclm jobs run --lease 1

note "[scan.NAME] with an interval: a scan job saves what it finds; an unknown certificate alerts"
cat >>"$ACLM_HOME/aclm.conf" <<EOF
[scan.ca]
targets = 127.0.0.1
ports = $CA_PORT
checks = cert
interval = 1h
EOF
ok jobs run --once
jobs_json
scan_jobs="[j for j in d if j['kind'] == 'scan']"
json_check "$T/jobs.json" "(lambda r: len(r) == 1 and r[0]['key'] == 'ca' and r[0]['state'] == 'done')($scan_jobs)" \
	"one scan job, done"
json_check "$T/jobs.json" \
	"(lambda x: x['endpoints'] == 1 and x['reachable'] == 1 and x['unknown'] == 1)(($scan_jobs)[0]['result'])" \
	"the scan job's counts"
ok alerts list --format json
json_check "$OUT" "len([a for a in d if a['kind'] == 'unknown_cert' and 'scan ca' in a['message']]) == 1" \
	"one unknown_cert alert"
# The run is recorded (scans + scan_runs) and the observation points at it.
python3 - "$(db_path)" <<'EOF' >"$T/scan-run.txt"
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
print(d.execute("select s.name, s.origin, s.interval_s, r.state, r.endpoints, r.reachable,"
                " (select count(*) from observations o where o.scan_run_id = r.id)"
                " from scan_runs r join scans s on s.id = r.scan_id").fetchall())
EOF
expect_eq "$(cat "$T/scan-run.txt")" "[('ca', 'config', 3600, 'done', 1, 1, 1)]" "the scan run row"
ok jobs run --once
jobs_json
json_check "$T/jobs.json" "len($scan_jobs) == 1" "no second scan before the interval"
ok cert list --format json
json_check "$OUT" "len([c for c in d if 'scan' in c['sources']]) >= 1" "the served chain is in the inventory"

note "jobs run in the foreground: workers take due jobs until SIGTERM"
# The revived job ran in the scan section's passes: queued for its retry, or dead again.
jobs_json
state=$(json_get "$T/jobs.json" "[j for j in d if j['id'] == $dead][0]['state']")
[ "$state" != dead ] || ok jobs retry "$dead"
"$ACLM_BIN" jobs run --workers 2 >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
bg_track $fg
for _ in $(seq 1 60); do
	jobs_json
	state=$(json_get "$T/jobs.json" "[j for j in d if j['id'] == $dead][0]['state']")
	[ "$state" = dead ] && break
	sleep 0.5
done
expect_eq "$state" dead "the revived job, run to its end by the foreground workers"
kill -TERM $fg
if wait $fg; then fg_rc=0; else fg_rc=$?; fi
expect_eq "$fg_rc" 0 "exit status of jobs run after SIGTERM"
! grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$T/fg.err" || { cat "$T/fg.err" >&2; fail "sanitizer report from jobs run"; }
