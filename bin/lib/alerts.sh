# shellcheck shell=bash
# The drills' view of the real Prometheus (bin/prometheus): started in the run's directory with the repository's
# alert rules, polled over its HTTP API after each fault for the alert that fault must raise, and at the end read
# back as a timeline of every alert that was pending or firing (from the ALERTS series Prometheus records for its
# own alerts). Sourced after bin/lib/drill.sh (say, verdict, started); the caller sets root and run_dir.
#
# Which alerts, and the drill copy of the rules. The rules' `for:` durations are production's: a JobManager
# failover that heals within 15-34 s (what this machine measures) must not page anyone, so HongbaoPayoutJobNotRunning
# (`for: 1m`) never fires on the rules as they are, nor does HongbaoFlinkTargetDown (`for: 1m`) for a JobManager
# that is back as the standby within a minute. The drill therefore runs Prometheus on a copy rendered by
# bin/prometheus with every `for:` longer than 5 s set to 5 s (HONGBAO_PROMETHEUS_ALERT_FOR; expressions, labels and
# annotations untouched) and expects:
#   kill-taskmanager  HongbaoPayoutJobRestarting  (no `for:` in the rules: the same rule as production)
#   kill-jobmanager   HongbaoPayoutJobNotRunning  (the job's uptime series absent or 0 on every JobManager)
#                     HongbaoFlinkTargetDown      (the killed JobManager's reporter does not answer)
#                     both must begin to fire after the kill: firing already while the drill saw the job healthy
#                     is a FAIL (the first run with a real Prometheus found the rules' job selector matching nothing,
#                     the job-down alert firing throughout)
# Everything else that fires (a restart after pg_terminate_backend, the job-down alert during a rescale's
# stop-and-resubmit, a killed TaskManager's target) is recorded in the timeline, not judged.

prometheus_port="${HONGBAO_PROMETHEUS_PORT:-9090}"
prometheus_url="http://127.0.0.1:${prometheus_port}"
alert_for="${HONGBAO_DRILL_ALERT_FOR:-5s}"
alert_checks=()    # "<PASS|FAIL>|<name>|<detail>" per expected alert, printed with the invariants
fault_windows=()   # "<fault> <start ms> <end ms>" for the timeline

prometheus() {
  HONGBAO_PROMETHEUS_DIR="${run_dir}/prometheus" HONGBAO_PROMETHEUS_ALERT_FOR="${alert_for}" "${root}/bin/prometheus" "$@"
}

start_prometheus() {
  prometheus start | sed -n 's/^\[prometheus\] /  /p'
}

# ms since the epoch -> "T+<s>s (HH:MM:SS)" on the drill's clock.
drill_time() { # <ms>
  printf 'T+%.1fs (%s)' "$(( $1 - started / 1000000 ))e-3" "$(date -d "@$(( $1 / 1000 ))" +%H:%M:%S)"
}

# The intervals in which alerts matching the selector were in a state, from the ALERTS series between two times
# (ms), one evaluation step apart at most; JSON array of {alert, state, labels, from, to} (seconds, to = the last
# evaluation seen in that state).
alert_intervals() { # <ALERTS selector> <from ms> <to ms>
  local step="${alert_step:-1}"
  curl -fsS -m 20 -G "${prometheus_url}/api/v1/query_range" --data-urlencode "query=ALERTS$1" \
      --data-urlencode "start=$(( $2 / 1000 ))" --data-urlencode "end=$(( $3 / 1000 ))" \
      --data-urlencode "step=${step}" 2>/dev/null \
    | jq -c --argjson step "${step}" '[.data.result[] | .metric as $m
        | reduce (.values[] | .[0]) as $t ([]; if length > 0 and ($t - .[-1].to) <= 2 * $step
            then .[-1].to = $t else . + [{from: $t, to: $t}] end)
        | .[] | {alert: $m.alertname, state: $m.alertstate,
                 labels: ($m | del(.__name__, .alertname, .alertstate, .severity, .team)), from, to}] | sort_by(.from)' \
    || echo '[]'
}

# After a fault that began at <start ms>: polls Prometheus (up to <timeout s>) until <alert> has been firing at
# some evaluation since then; records PASS with when it fired, or FAIL if it never fired. "new": it must begin to
# fire after the fault's start (an episode already firing then does not count: the job-down alert firing while the
# drill saw the job healthy means it does not see the job); otherwise an episode still firing from before counts
# (a restart a few minutes earlier keeps HongbaoPayoutJobRestarting firing for 5 minutes).
expect_alert() { # <fault> <alert> <start ms> <timeout s> [new]
  local fault="$1" alert="$2" start="$3" deadline=$((SECONDS + $4)) found now before=""
  while :; do
    now="$(date +%s%3N)"
    found="$(alert_intervals "{alertname=\"${alert}\",alertstate=\"firing\"}" "$((start - 2000))" "${now}" \
      | jq -c --argjson s "$((start / 1000))" --arg mode "${5:-any}" \
          '[.[] | select(.to >= $s) | select($mode != "new" or .from >= $s)] | first // empty')"
    [[ -n "${found}" ]] && break
    if ((SECONDS >= deadline)); then
      if [[ "${5:-}" == new ]]; then
        before="$(alert_intervals "{alertname=\"${alert}\",alertstate=\"firing\"}" "$((start - 2000))" "${start}" | jq -r 'length')"
        ((before > 0)) && before="; it was firing already before the fault, as if the job were not running"
        [[ "${before}" == 0 ]] && before=""
      fi
      alert_checks+=("FAIL|alert ${alert}|never began to fire after ${fault} at $(drill_time "${start}") (polled ${4} s past the recovery)${before}")
      say "  ALERT ${alert}: NOT fired after ${fault}${before}"
      return 0
    fi
    sleep 1
  done
  local from to since
  from="$(jq -r '.from | floor' <<<"${found}")"
  to="$(jq -r '.to | floor' <<<"${found}")"
  if ((from * 1000 < start)); then since="already firing at the fault ($(drill_time $((from * 1000))), an earlier episode)"; else since="fired $(drill_time $((from * 1000))), $((from - start / 1000)) s after the fault"; fi
  alert_checks+=("PASS|alert ${alert}|${fault} at $(drill_time "${start}"): ${since}; $(jq -r '.labels | to_entries | map(select(.key | IN("instance", "job_id", "round", "operator_name", "reason"))) | map("\(.key)=\(.value)") | join(" ")' <<<"${found}")")
  say "  ALERT ${alert} firing on Prometheus: ${since}"
}

# The alerts a fault must raise (see the top of this file); records each fault's window for the timeline.
expect_fault_alerts() { # <fault> <start ms> <end ms>
  fault_windows+=("$1 $2 $3")
  case "$1" in
    kill-taskmanager | kill-busy-taskmanager) expect_alert "$1" HongbaoPayoutJobRestarting "$2" 60 ;;
    kill-jobmanager)
      expect_alert "$1" HongbaoPayoutJobNotRunning "$2" 60 new
      expect_alert "$1" HongbaoFlinkTargetDown "$2" 60 new
      ;;
  esac
}

# At the end the job runs: the job-down alert must have resolved (waits a little for the next evaluation).
expect_job_down_resolved() { # <timeout s>
  local deadline=$((SECONDS + $1)) firing
  while :; do
    firing="$(curl -fsS -m 10 -G "${prometheus_url}/api/v1/query" \
      --data-urlencode 'query=ALERTS{alertname="HongbaoPayoutJobNotRunning",alertstate="firing"}' | jq '.data.result | length')"
    if [[ "${firing}" == 0 ]]; then
      alert_checks+=("PASS|alert job down resolved|HongbaoPayoutJobNotRunning not firing at the end ($(drill_time "$(date +%s%3N)"))")
      return 0
    fi
    if ((SECONDS >= deadline)); then
      alert_checks+=("FAIL|alert job down resolved|HongbaoPayoutJobNotRunning still firing at the end, $1 s after the job settled${firing:+ (${firing} series)}")
      return 0
    fi
    sleep 1
  done
}

# The whole run's alerts from the drill's start: alerts-timeline.json (faults, intervals) and alerts.txt (a table),
# printed. Resolved (firing) or until (pending: resolved or turned firing) = one evaluation step after the last one
# seen in the state; "still" when it lasts to the end.
write_alert_timeline() {
  local now json w
  now="$(date +%s%3N)"
  json="$(alert_intervals "" "$((started / 1000000))" "${now}")"
  local faults='[]'
  for w in "${fault_windows[@]}"; do
    read -r name from to <<<"${w}"
    faults="$(jq -c --arg n "${name}" --argjson f "${from}" --argjson t "${to}" '. + [{fault: $n, startMs: $f, recoveredMs: $t}]' <<<"${faults}")"
  done
  # The query's last step: a series seen there is still active at the end.
  local first=$((started / 1000000000)) last
  last=$((first + (now / 1000 - first) / ${alert_step:-1} * ${alert_step:-1}))
  jq -n --argjson alerts "${json}" --argjson faults "${faults}" --argjson start "$((started / 1000000))" \
      --argjson until "${now}" --argjson last "${last}" --argjson step "${alert_step:-1}" \
      --arg prometheus "${prometheus_url}" --arg alertFor "${alert_for}" \
    '{prometheus: $prometheus, drillStartMs: $start, endMs: $until, rules: "infra/prometheus/hongbao-alerts.yml, every for: longer than \($alertFor) set to \($alertFor)",
      faults: $faults, alerts: ($alerts | map(. + {fromMs: (.from * 1000 | floor), lastMs: (.to * 1000 | floor),
        resolvedMs: (if .to >= $last then null else ((.to + $step) * 1000 | floor) end)} | del(.from, .to)))}' \
    >"${run_dir}/alerts-timeline.json"
  {
    for w in "${fault_windows[@]}"; do
      read -r name from to <<<"${w}"
      printf '  fault  %-36s %s .. recovered %s\n' "${name}" "$(drill_time "${from}")" "$(drill_time "${to}")"
    done
    jq -r '.alerts[] | [.state, .alert, .fromMs, (.resolvedMs // "still"),
        (.labels | to_entries | map(select(.key | IN("instance", "job_id", "round", "operator_name", "reason"))) | map("\(.key)=\(if .key == "job_id" then .value[0:8] else .value end)") | join(" "))] | @tsv' \
        "${run_dir}/alerts-timeline.json" \
      | while IFS=$'\t' read -r state alert from resolved labels; do
          printf '  %-7s %-36s %s .. %s  %s\n' "${state}" "${alert}" "$(drill_time "${from}")" \
            "$([[ "${resolved}" == still ]] && echo "still ${state}" || { [[ "${state}" == firing ]] && echo "resolved $(drill_time "${resolved}")" || echo "until $(drill_time "${resolved}")"; })" "${labels}"
        done
  } >"${run_dir}/alerts.txt"
  say "ALERT TIMELINE on the real Prometheus (${prometheus_url}; ${run_dir##*/}/alerts-timeline.json):"
  cat "${run_dir}/alerts.txt"
}

print_alert_checks() {
  local c status name detail
  for c in "${alert_checks[@]}"; do
    IFS='|' read -r status name detail <<<"${c}"
    verdict "${status}" "${name}" "${detail}"
  done
}
