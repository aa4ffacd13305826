# shellcheck shell=bash
# The chaos drill's live schedule change (fault "schedule-change", bin/chaos-drill): a running round's end moved
# later from the control topic while the generator produces, the same change resent, a change reaching into decided
# event time; the audience's shakes in the extension; then what the drill must expect because of it, and the report.
# Sourced after bin/lib/drill.sh (say, die, psql_db, job_json, verdict, check). The caller sets: root, local_dir,
# rest, job_id, bootstrap, profile, topic, control_topic, database, ref_database, run_dir, ingest_jar,
# generator_pid, and calls schedule_change_plan before the generator starts.
#
# The extension shakes. The generator plays the gala as the studio runs it: round schedule_round (2) goes on for
# schedule_extension_s (20) seconds past its announced end (its profile: generator-profile.yaml, that round's
# duration longer; the job keeps chaos.yaml). So the shakes inside the extension reach the topic in gateway-time
# order with the rest, through the real producer path, and the generator's manifest counts them; until the change
# they are out of the round's window, with it they are valid.
#
# Timing. The drill's gala runs faster than real time (the generator is throttled by bytes, not paced), so an
# operator's "a minute ahead" is a few seconds of wall time here. So that the decision does not depend on how fast
# the control record reaches the desk, the generator is frozen (SIGSTOP, as the quiet spell does) from just before
# the change until its ledger lines are committed: event time then stands still, and the change's effective_at (the
# round's announced end) is at least schedule_lead_ms + schedule_margin_ms ahead of the watermark read once it
# stands still. Before the round runs with that much room the step waits; when the round is past it (a slow start),
# the step is skipped, loudly, and nothing is sent.
#
# The expectation. The shake topic read back by `ingest count` under the schedule in force (expected-manifest.json:
# the generator's manifest with its `expected` replaced by the count). With the change applied that is the profile
# with the round extended (schedule-as-changed.yaml: the change moves only the end, from the old end on, so at every
# event time the schedule in force is that window), and the generator's own manifest must equal it; skipped, it is
# chaos.yaml (the extension's shakes then OUT_OF_WINDOW). The fault-free reference run runs on the same profile with
# a control topic of its own, empty: the drill's three records would be decided there against another horizon.
# Why not shakes of the drill's own, written at the moment of the change: they would be ahead of the generator in
# the topic, and the reference run, whose window already holds them, would see its watermark jump over the rest of
# the round and decide those winners on arrival instead of in event-time order (other capped wins paid).

schedule_lead_ms=30000 # PayoutPipeline.SCHEDULE_LEAD, the job's default (the drill passes no --schedule-lead)
schedule_margin_ms="${HONGBAO_DRILL_SCHEDULE_MARGIN_MS:-10000}"
schedule_extension_s="${HONGBAO_DRILL_EXTENSION_SECONDS:-20}"
schedule_round="${HONGBAO_DRILL_EXTENDED_ROUND:-2}"
schedule_outcome="" # "" (not run), "skipped: <why>", "sent"
schedule_start_ms="" schedule_old_end_ms="" schedule_new_end_ms="" schedule_w_ms=""
schedule_desk_applied="" schedule_desk_refused="" schedule_awaiting="" schedule_duration_ms=""
# drill.sh's start_generator, check_invariants and reference_run read these (the profile, the manifest and the
# control topic otherwise).
generator_profile="" expected_manifest="" reference_profile="" reference_control_topic=""

# ISO-8601 with the gala's offset (+08:00), as an operator in Beijing writes it.
iso_cst() { # <epoch ms>
  printf '%s.%03d+08:00' "$(date -u -d "@$((($1 + 8 * 3600000) / 1000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000))
}

# The shakes' watermark as the identity operator has it: the lowest input watermark of its subtasks (its second
# input is the desk's promise, the shakes' watermark plus the lead, so the minimum is the shakes'). Empty when
# there is none yet.
identity_watermark_ms() {
  local vid
  vid="$(job_json | jq -r '[.vertices[] | select(.name | test("one identity per event id"))][0].id // empty' 2>/dev/null || true)"
  [[ -n "${vid}" ]] || return 0
  curl -fsS -m 5 "${rest}/jobs/${job_id}/vertices/${vid}/watermarks" 2>/dev/null \
    | jq -r '[.[] | .value | tonumber] | min | select(. != null and . > 0) | floor' 2>/dev/null || true
}

# The sum over a vertex's subtasks of an operator metric (hongbao group), over REST; empty when not there.
vertex_metric_sum() { # <vertex name regex> <metric name>
  local vid ids
  vid="$(job_json | jq -r --arg n "$1" '[.vertices[] | select(.name | test($n))][0].id // empty' 2>/dev/null || true)"
  [[ -n "${vid}" ]] || return 0
  ids="$(curl -fsS -m 5 "${rest}/jobs/${job_id}/vertices/${vid}/subtasks/metrics" 2>/dev/null \
    | jq -r --arg m ".hongbao.$2" '[.[].id | select(endswith($m))] | join(",")' 2>/dev/null || true)"
  [[ -n "${ids}" ]] || return 0
  curl -fsS -m 5 -G "${rest}/jobs/${job_id}/vertices/${vid}/subtasks/metrics" --data-urlencode "get=${ids}" \
    --data-urlencode agg=sum 2>/dev/null | jq -r '[.[].sum] | add // empty | floor' 2>/dev/null || true
}

# Control records, one JSON object a line, with Kafka's console producer (what an operator has at hand).
send_control() { # <json>...
  printf '%s\n' "$@" | java -Xmx128m -Dlog4j2.level=ERROR -cp "${local_dir}/kafka/libs/*" \
    org.apache.kafka.tools.ConsoleProducer --bootstrap-server "${bootstrap}" --topic "${control_topic}" \
    >>"${run_dir}/control-producer.log" 2>&1 || die "sending to ${control_topic} failed (${run_dir}/control-producer.log)"
}

# Waits until the ledger has a line whose entry id matches the LIKE pattern; prints "kind|effective ms|detail".
wait_ledger_line() { # <entry id LIKE pattern> <timeout s>
  local deadline=$((SECONDS + $2)) line
  while :; do
    line="$(psql_db "${database}" "SELECT kind || '|' || (extract(epoch FROM effective_at) * 1000)::bigint || '|'
        || coalesce(detail, '') FROM round_ledger WHERE entry_id LIKE '$1' ORDER BY entry_id LIMIT 1")"
    [[ -n "${line}" ]] && { printf '%s\n' "${line}"; return 0; }
    ((SECONDS < deadline)) || return 0
    sleep 1
  done
}

# A copy of the profile with round <id>'s start_offset (unless empty) and duration replaced, only that round when
# only=1, and traffic keys overridden (key=value ...).
profile_variant() { # <round> <start_offset or ""> <duration> <only 0|1> [traffic key=value...]
  local round="$1" start="$2" duration="$3" only="$4"
  shift 4
  awk -v round="${round}" -v start="${start}" -v duration="${duration}" -v only="${only}" -v overrides="$*" '
    BEGIN { n = split(overrides, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); o[p[1]] = p[2] } }
    /^rounds:/ { section = "rounds"; print; next }
    /^traffic:/ { section = "traffic"; print; next }
    /^[^ #]/ { section = "" }
    section == "rounds" && /^  - id: *[0-9]+/ { current = $3 }
    section == "rounds" && only == 1 && current != round { next }
    section == "rounds" && current == round && /^ +start_offset:/ && start != "" { sub(/start_offset:.*/, "start_offset: " start) }
    section == "rounds" && current == round && /^ +duration:/ { sub(/duration:.*/, "duration: " duration) }
    section == "traffic" && match($0, /^  [a-z_]+:/) {
      key = substr($0, 3, RLENGTH - 3)
      if (key in o) { print "  " key ": " o[key]; next }
    }
    { print }' "${profile}"
}

iso_seconds() { printf 'PT%d.%03dS' $(($1 / 1000)) $(($1 % 1000)); } # <ms>

# An ISO-8601 duration of the profile (PT…H…M…S) in ms.
iso_ms() { # <duration>
  [[ "$1" =~ ^PT(([0-9]+)H)?(([0-9]+)M)?(([0-9]+)(\.([0-9]{1,3}))?S)?$ ]] || die "cannot read duration $1"
  local frac="${BASH_REMATCH[8]:-0}"
  frac="${frac}00"
  echo $(((10#${BASH_REMATCH[2]:-0} * 3600 + 10#${BASH_REMATCH[4]:-0} * 60 + 10#${BASH_REMATCH[6]:-0}) * 1000 + 10#${frac:0:3}))
}

# Before the generator starts: it plays the round longer (header comment). Sets generator_profile.
schedule_change_plan() {
  local duration
  duration="$(awk -v r="${schedule_round}" '/^  - id: *[0-9]+/ { c = $3 } c == r && /^ +duration:/ { print $2; exit }' "${profile}")"
  [[ -n "${duration}" ]] || die "schedule change: round ${schedule_round} is not in ${profile}"
  schedule_duration_ms="$(iso_ms "${duration}")"
  generator_profile="${run_dir}/generator-profile.yaml"
  profile_variant "${schedule_round}" "" "$(iso_seconds $((schedule_duration_ms + schedule_extension_s * 1000)))" 0 \
    >"${generator_profile}"
  say "schedule change planned: the generator plays round ${schedule_round} ${schedule_extension_s} s past its end (${generator_profile##*/})"
}

fault_schedule_change() {
  if [[ -n "${schedule_outcome}" ]]; then
    say "SCHEDULE CHANGE: done once already in this run (${schedule_outcome%%:*}); the step runs once"
    return
  fi
  local deadline=$((SECONDS + 240)) w id start end room stable prev i
  read -r id start end < <(psql_db "${database}" "SELECT round_id || ' ' || (extract(epoch FROM starts_at) * 1000)::bigint
      || ' ' || (extract(epoch FROM ends_at) * 1000)::bigint FROM round WHERE round_id = ${schedule_round}") || true
  [[ -n "${end:-}" ]] || die "schedule change: round ${schedule_round} is not registered in ${database}"
  room=$((schedule_lead_ms + schedule_margin_ms))
  say "SCHEDULE CHANGE: waiting until round ${id} runs with at least $((room / 1000)) s of event time left (lead $((schedule_lead_ms / 1000)) s + margin)"
  while :; do
    w="$(identity_watermark_ms)"
    if [[ -n "${w}" ]] && ((w + room > end)); then
      schedule_outcome="skipped: event time $(iso_cst "${w}") is past round ${id}'s room (its end $(iso_cst "${end}") less $((room / 1000)) s)"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    if ! kill -0 "${generator_pid}" 2>/dev/null; then
      schedule_outcome="skipped: the generator had finished before round ${id} ran"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    if [[ -n "${w}" ]] && ((w >= start)); then
      # Freeze the generator, let the job read what is in Kafka, then read event time again: it stands still. The
      # REST API's metrics (watermarks too) are refreshed every 10 s (metrics.fetcher.update-interval), so only a
      # reading unchanged for longer than that is event time standing still.
      kill -STOP "${generator_pid}"
      prev="" stable=0
      for ((i = 0; i < 60 && stable < 12; i++)); do
        sleep 1
        w="$(identity_watermark_ms)"
        if [[ -n "${w}" && "${w}" == "${prev}" ]]; then stable=$((stable + 1)); else stable=0; fi
        prev="${w}"
      done
      ((stable >= 12 && w + room <= end)) && break
      kill -CONT "${generator_pid}"
      schedule_outcome="skipped: event time moved to $(iso_cst "${w:-0}") while the job caught up, too close to round ${id}'s end $(iso_cst "${end}")"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    if ((SECONDS >= deadline)); then
      schedule_outcome="skipped: round ${id} did not start within 240 s (event time $(iso_cst "${w:-0}"))"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    sleep 0.5
  done
  schedule_start_ms="${start}" schedule_old_end_ms="${end}" schedule_w_ms="${w}"
  schedule_new_end_ms=$((end + schedule_extension_s * 1000))
  say "  generator frozen; event time stands at $(iso_cst "${w}") in round ${id} [$(iso_cst "${start}"), $(iso_cst "${end}")), $(((end - w) / 1000)) s before its end"

  # (a) the extension, from the old end on; (b) the same record again; (c) the round closed now, from 10 s ago.
  local extend close close_end line
  extend="$(printf '{"change_id":"drill-extend-r%d","round_id":%d,"action":"SET_WINDOW","starts_at":"%s","ends_at":"%s","effective_at":"%s","reason":"chaos drill: %d s encore"}' \
    "${id}" "${id}" "$(iso_cst "${start}")" "$(iso_cst "${schedule_new_end_ms}")" "$(iso_cst "${end}")" "${schedule_extension_s}")"
  close_end=$((w > start + 1000 ? w : start + 1000))
  close="$(printf '{"change_id":"drill-close-r%d","round_id":%d,"action":"SET_WINDOW","starts_at":"%s","ends_at":"%s","effective_at":"%s","reason":"chaos drill: too late"}' \
    "${id}" "${id}" "$(iso_cst "${start}")" "$(iso_cst "${close_end}")" "$(iso_cst "$((w - 10000))")")"
  printf '%s\n%s\n%s\n' "${extend}" "${extend}" "${close}" >"${run_dir}/control-records.jsonl"
  send_control "${extend}"
  say "  sent SET_WINDOW drill-extend-r${id}: end $(iso_cst "${end}") -> $(iso_cst "${schedule_new_end_ms}"), effective_at $(iso_cst "${end}")"
  line="$(wait_ledger_line "change-drill-extend-r${id}" 60)"
  say "  ledger: change-drill-extend-r${id} ${line:-(no line within 60 s)}"
  send_control "${extend}" "${close}"
  say "  sent drill-extend-r${id} again, and SET_WINDOW drill-close-r${id}: end -> $(iso_cst "${close_end}") effective_at $(iso_cst "$((w - 10000))"), behind event time"
  line="$(wait_ledger_line "change-drill-extend-r${id}/repeat/%" 60)"
  say "  ledger: change-drill-extend-r${id}/repeat/… ${line:-(no line within 60 s)}"
  line="$(wait_ledger_line "change-drill-close-r${id}" 60)"
  say "  ledger: change-drill-close-r${id} ${line:-(no line within 60 s)}"
  # The desk's counters now (a restart sets them back to 0, so later they would not tell); the REST metrics are
  # fetched every 10 s, so give them that long to show the change.
  for ((i = 0; i < 20; i++)); do
    schedule_desk_applied="$(vertex_metric_sum "decide round changes" roundChangesApplied)"
    schedule_desk_refused="$(vertex_metric_sum "decide round changes" roundChangesRefused)"
    [[ "${schedule_desk_applied}" == 1 && "${schedule_desk_refused}" == 1 ]] && break
    sleep 1
  done
  say "  desk counters: roundChangesApplied ${schedule_desk_applied:-?}, roundChangesRefused ${schedule_desk_refused:-?}"
  schedule_awaiting="$(vertex_metric_sum "one identity per event id" shakesAwaitingSchedule)"
  kill -CONT "${generator_pid}"
  schedule_outcome="sent"
  say "  generator resumed (identity: ${schedule_awaiting:-?} shakes awaiting the schedule promise)"
}

# After the run settled, before the reference run: the expected counts under the schedule in force, and the
# reference run's profile and control topic (header comment).
schedule_change_expectations() {
  [[ -n "${schedule_outcome}" ]] || return 0
  local in_force="${profile}"
  if [[ "${schedule_outcome}" == sent ]]; then
    in_force="${run_dir}/schedule-as-changed.yaml"
    profile_variant "${schedule_round}" "" "$(iso_seconds $((schedule_new_end_ms - schedule_start_ms)))" 0 >"${in_force}"
    reference_control_topic="${control_topic}.reference"
  fi
  say "expected counts under the schedule in force (${in_force##*/}): the shake topic read back by ingest count"
  java -jar "${ingest_jar}" count --bootstrap-servers "${bootstrap}" --profile "${in_force}" --topic "${topic}" \
    --report "${run_dir}/count-in-force.json" >"${run_dir}/count-in-force.txt" 2>&1 \
    || { tail -n 20 "${run_dir}/count-in-force.txt" >&2; die "ingest count failed"; }
  jq --slurpfile c "${run_dir}/count-in-force.json" '.expected = $c[0].counts' "${run_dir}/manifest.json" \
    >"${run_dir}/expected-manifest.json"
  expected_manifest="${run_dir}/expected-manifest.json"
  reference_profile="${in_force}"
}

# The step's outcome and checks, for the final report. Adds to $failures (verdict).
schedule_change_report() {
  [[ -n "${schedule_outcome}" ]] || return 0
  echo
  say "SCHEDULE CHANGE"
  if [[ "${schedule_outcome}" != sent ]]; then
    printf '  %-4s  %-28s %s\n' SKIP "schedule change" "${schedule_outcome#skipped: } (the extension's shakes expected as OUT_OF_WINDOW)"
    return 0
  fi
  local r="${schedule_round}" kind at detail
  say "round ${r}: [$(iso_cst "${schedule_start_ms}"), $(iso_cst "${schedule_old_end_ms}")) extended to $(iso_cst "${schedule_new_end_ms}"); sent at event time $(iso_cst "${schedule_w_ms}")"
  psql_db "${database}" "SELECT '  ' || entry_id || '  ' || kind || '  effective ' || effective_at || '  ' || coalesce(detail, '')
      FROM round_ledger WHERE entry_id LIKE 'change-drill-%' ORDER BY source" | cut -c1-400
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-extend-r${r}" 0) || true
  if [[ "${kind}" == RESCHEDULED && "${at}" == "${schedule_old_end_ms}" ]]; then
    verdict PASS "change applied" "RESCHEDULED, effective_at the old end"
  else
    verdict FAIL "change applied" "${kind:-no line}, effective_at ${at:-?} (expected RESCHEDULED at ${schedule_old_end_ms}): ${detail}"
  fi
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-extend-r${r}/repeat/%" 0) || true
  check "change resent" "${kind}" CHANGE_REPEATED "nothing applied again"
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-close-r${r}" 0) || true
  if [[ "${kind}" == CHANGE_REFUSED && "${detail}" == *"in event time already decided"* ]]; then
    verdict PASS "change into decided time" "CHANGE_REFUSED, in event time already decided"
  else
    verdict FAIL "change into decided time" "${kind:-no line} (expected CHANGE_REFUSED, event time already decided): ${detail}"
  fi
  check "ledger lines of the changes" "$(psql_db "${database}" "SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-%'")" 3 \
    "no other change line"
  check "desk counters" "applied ${schedule_desk_applied:-?}, refused ${schedule_desk_refused:-?}" "applied 1, refused 1" \
    "roundChangesApplied / roundChangesRefused of the desk, read at the step"
  # The generator played the changed schedule: its manifest is what the topic holds under it.
  local differing
  differing="$(jq -n --slurpfile m "${run_dir}/manifest.json" --slurpfile c "${run_dir}/count-in-force.json" \
    '[($m[0].expected | paths(scalars)) as $p | select(($m[0].expected | getpath($p)) != ($c[0].counts | getpath($p)))] | length
     + ([($c[0].counts | paths(scalars)) as $p | select(($m[0].expected | getpath($p)) == null)] | length)')"
  check "manifest = topic as changed" "${differing} figures differ" "0 figures differ" \
    "the generator's manifest against the topic read back under ${reference_profile##*/}"
  local minute counted expected paid paid_ref
  minute="$(date -u -d "@$((schedule_old_end_ms / 60000 * 60))" +%Y-%m-%dT%H:%M:%SZ)"
  counted="$(psql_db "${database}" "SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = ${r}
      AND minute_start >= '${minute}'")"
  expected="$(jq --arg r "${r}" --arg m "${minute}" '[.counts.rounds[$r].by_minute | to_entries[] | select(.key >= $m) | .value] | add // 0' \
    "${run_dir}/count-in-force.json")"
  check "extension counted" "${counted}" "${expected}" "round ${r}'s interactions from ${minute} (the old end's minute) on, against the topic read back"
  ((expected > 0)) || verdict FAIL "extension shakes" "none in the extension: nothing tested"
  paid="$(psql_db "${database}" "SELECT count(*) || ' payouts, ' || coalesce(sum(amount_fen), 0) || ' fen' FROM payout
      WHERE round_id = ${r} AND shake_event_time >= to_timestamp(${schedule_old_end_ms} / 1000.0)")"
  paid_ref="$(psql_db "${ref_database}" "SELECT count(*) || ' payouts, ' || coalesce(sum(amount_fen), 0) || ' fen' FROM payout
      WHERE round_id = ${r} AND shake_event_time >= to_timestamp(${schedule_old_end_ms} / 1000.0)")"
  check "extension paid" "${paid}" "${paid_ref}" "shakes of round ${r} in the extension, against the reference run"
}
