# shellcheck shell=bash
# The chaos drill's live schedule change (fault "schedule-change", bin/chaos-drill): a running round's end moved
# later from the control topic while the generator produces, the same change resent, a change reaching into decided
# event time, and shakes inside the extension; then what the drill must expect because of it, and the report.
# Sourced after bin/lib/drill.sh (say, die, psql_db, job_json, verdict, check). The caller sets: root, local_dir,
# rest, job_id, bootstrap, profile, topic, control_topic, database, ref_database, run_dir, seed, ingest_jar,
# generator_pid.
#
# Timing. The drill's gala runs faster than real time (the generator is throttled by bytes, not paced), so an
# operator's "a minute ahead" is a few seconds of wall time here. So that the decision does not depend on how fast
# the control record reaches the desk, the generator is frozen (SIGSTOP, as the quiet spell does) from just before
# the change until its ledger lines are committed and the extension shakes are written: event time then stands
# still, and the change's effective_at (the round's old end) is at least schedule_lead_ms + schedule_margin_ms
# ahead of the watermark read once it stands still. A round without that much room left (or no round running) is
# waited for; when none comes (the generator done, or past the last round's room) the step is skipped, loudly.
#
# The extension shakes. Two kinds land in [old end, new end): the generator's own out-of-window shakes of the round
# (it writes half of them in the 5 s after each round's end; they become valid) and the drill's, written by a
# second `ingest generate` run (the real producer path, another seed, only this round's window shrunk to the
# extension, no ticks, no bad records, retries as usual) while the generator is frozen: they are ahead of event
# time then and wait in the identity (gauge shakesAwaitingSchedule) until the desk's promise passes them.
#
# The expectation. The change moves only the round's end, from an effective time at the old end, so the schedule in
# force at every event time is the profile with that round's window extended ("the schedule as changed",
# <run>/schedule-as-changed.yaml). The expected counts are the shake topic read back by `ingest count` under that
# profile (expected-manifest.json: the generator's manifest with its `expected` replaced), and the fault-free
# reference run runs on that profile with a control topic of its own, empty (the drill's three records would be
# decided there against another horizon). The drill checks that the two agree with the manifests: the round's
# extra interactions are the drill's distinct extension shakes plus exactly the out-of-window rejects that
# disappeared, and duplicates grew by the extension run's retries.

schedule_lead_ms=30000 # PayoutPipeline.SCHEDULE_LEAD, the job's default (the drill passes no --schedule-lead)
schedule_margin_ms="${HONGBAO_DRILL_SCHEDULE_MARGIN_MS:-10000}"
schedule_extension_s="${HONGBAO_DRILL_EXTENSION_SECONDS:-20}"
schedule_extension_shakes="${HONGBAO_DRILL_EXTENSION_SHAKES:-300}"
schedule_outcome="" # "" (not run), "skipped: <why>", "sent"
schedule_round="" schedule_start_ms="" schedule_old_end_ms="" schedule_new_end_ms="" schedule_w_ms=""
schedule_desk_applied="" schedule_desk_refused="" schedule_awaiting=""
# drill.sh's check_invariants and reference_run read these (the manifest, profile and control topic otherwise).
expected_manifest="" reference_profile="" reference_control_topic=""

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

fault_schedule_change() {
  if [[ -n "${schedule_outcome}" ]]; then
    say "SCHEDULE CHANGE: done once already in this run (${schedule_outcome%%:*}); the step runs once"
    return
  fi
  local rounds=() deadline=$((SECONDS + 240)) w r id start end room not_before=0 stable prev i
  mapfile -t rounds < <(psql_db "${database}" "SELECT round_id || ' ' || (extract(epoch FROM starts_at) * 1000)::bigint
      || ' ' || (extract(epoch FROM ends_at) * 1000)::bigint FROM round ORDER BY starts_at")
  ((${#rounds[@]} > 0)) || die "schedule change: no rounds registered in ${database}"
  room=$((schedule_lead_ms + schedule_margin_ms))
  say "SCHEDULE CHANGE: waiting for a running round with at least $((room / 1000)) s of event time left (lead $((schedule_lead_ms / 1000)) s + margin)"
  while :; do
    if ! kill -0 "${generator_pid}" 2>/dev/null; then
      schedule_outcome="skipped: the generator had finished before a round with room was running"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    w="$(identity_watermark_ms)"
    r=""
    if [[ -n "${w}" ]]; then
      local past_all=true
      for i in "${rounds[@]}"; do
        read -r id start end <<<"${i}"
        ((end - room > w)) && past_all=false
        if ((start <= w && w + room <= end && start >= not_before)); then
          r="${i}"
          break
        fi
      done
      if [[ "${past_all}" == true ]]; then
        schedule_outcome="skipped: event time $(iso_cst "${w}") is past the last round's room"
        say "  SKIPPED: ${schedule_outcome#skipped: }"
        return
      fi
    fi
    if [[ -n "${r}" ]]; then
      read -r id start end <<<"${r}"
      # Freeze the generator, let the job read what is in Kafka, then read event time again: it stands still.
      kill -STOP "${generator_pid}"
      prev="" stable=0
      for ((i = 0; i < 40 && stable < 3; i++)); do
        sleep 1
        w="$(identity_watermark_ms)"
        if [[ -n "${w}" && "${w}" == "${prev}" ]]; then stable=$((stable + 1)); else stable=0; fi
        prev="${w}"
      done
      if ((stable >= 3 && w + room <= end)); then
        break
      fi
      kill -CONT "${generator_pid}"
      say "  round ${id}: event time moved to $(iso_cst "${w:-0}") while the job caught up, too close to its end; trying the next round"
      not_before=$((end))
    fi
    if ((SECONDS >= deadline)); then
      schedule_outcome="skipped: no round with room within 240 s (event time $(iso_cst "${w:-0}"))"
      say "  SKIPPED: ${schedule_outcome#skipped: }"
      return
    fi
    sleep 0.5
  done
  schedule_round="${id}" schedule_start_ms="${start}" schedule_old_end_ms="${end}" schedule_w_ms="${w}"
  schedule_new_end_ms=$((end + schedule_extension_s * 1000))
  say "  generator frozen; event time stands at $(iso_cst "${w}") in round ${id} [$(iso_cst "${start}"), $(iso_cst "${end}")), $(((end - w) / 1000)) s before its end"

  # (a) the extension, from the old end on; (b) the same record again; (c) the round closed now, from 10 s ago.
  local extend close close_end
  extend="$(printf '{"change_id":"drill-extend-r%d","round_id":%d,"action":"SET_WINDOW","starts_at":"%s","ends_at":"%s","effective_at":"%s","reason":"chaos drill: %d s encore"}' \
    "${id}" "${id}" "$(iso_cst "${start}")" "$(iso_cst "${schedule_new_end_ms}")" "$(iso_cst "${end}")" "${schedule_extension_s}")"
  close_end=$((w > start + 1000 ? w : start + 1000))
  close="$(printf '{"change_id":"drill-close-r%d","round_id":%d,"action":"SET_WINDOW","starts_at":"%s","ends_at":"%s","effective_at":"%s","reason":"chaos drill: too late"}' \
    "${id}" "${id}" "$(iso_cst "${start}")" "$(iso_cst "${close_end}")" "$(iso_cst "$((w - 10000))")")"
  printf '%s\n%s\n%s\n' "${extend}" "${extend}" "${close}" >"${run_dir}/control-records.jsonl"
  send_control "${extend}"
  say "  sent SET_WINDOW drill-extend-r${id}: end $(iso_cst "${end}") -> $(iso_cst "${schedule_new_end_ms}"), effective_at $(iso_cst "${end}")"
  local line
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

  # The drill's shakes in the extension: the same users, another seed (other event ids), this round only.
  local gala_start_ms
  gala_start_ms="$(date -d "$(sed -n 's/^gala_start: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "${profile}")" +%s%3N)"
  profile_variant "${id}" "$(iso_seconds $((end - gala_start_ms)))" "$(iso_seconds $((schedule_extension_s * 1000)))" 1 \
    events_per_round="${schedule_extension_shakes}" burst_share=0 malformed_share=0 unknown_round_share=0 \
    out_of_window_share=0 bot_devices=0 >"${run_dir}/extension-profile.yaml"
  sed 's/^client.id=.*/client.id=hongbao-drill-extension/' "${run_dir}/generator-kafka.properties" \
    >"${run_dir}/extension-kafka.properties"
  java -jar "${ingest_jar}" generate --bootstrap-servers "${bootstrap}" --kafka-config "${run_dir}/extension-kafka.properties" \
    --profile "${run_dir}/extension-profile.yaml" --seed "$((seed + 7919))" --tick-interval PT0S --topic "${topic}" \
    --manifest "${run_dir}/extension-manifest.json" >"${run_dir}/extension-generator.log" 2>&1 \
    || { kill -CONT "${generator_pid}"; tail -n 20 "${run_dir}/extension-generator.log" >&2; die "the extension shakes could not be written"; }
  say "  extension shakes written: $(grep '^generated' "${run_dir}/extension-generator.log")"
  # They are ahead of the promise, so they wait in the identity (the REST metrics are up to 10 s old).
  for ((i = 0; i < 15; i++)); do
    sleep 1
    schedule_awaiting="$(vertex_metric_sum "one identity per event id" shakesAwaitingSchedule)"
    [[ "${schedule_awaiting:-0}" -gt 0 ]] && break
  done
  say "  identity: ${schedule_awaiting:-?} shakes awaiting the schedule promise (gauge shakesAwaitingSchedule)"
  kill -CONT "${generator_pid}"
  schedule_outcome="sent"
  say "  generator resumed"
}

# After the run settled, before the reference run: the expected counts under the schedule as changed, and the
# reference run's profile and control topic (header comment).
schedule_change_expectations() {
  [[ "${schedule_outcome}" == sent ]] || return 0
  local changed="${run_dir}/schedule-as-changed.yaml"
  profile_variant "${schedule_round}" "" "$(iso_seconds $((schedule_new_end_ms - schedule_start_ms)))" 0 >"${changed}"
  say "expected counts under the schedule as changed (${changed##*/}): the shake topic read back by ingest count"
  java -jar "${ingest_jar}" count --bootstrap-servers "${bootstrap}" --profile "${changed}" --topic "${topic}" \
    --report "${run_dir}/count-as-changed.json" >"${run_dir}/count-as-changed.txt" 2>&1 \
    || { tail -n 20 "${run_dir}/count-as-changed.txt" >&2; die "ingest count failed"; }
  jq --slurpfile c "${run_dir}/count-as-changed.json" '.expected = $c[0].counts' "${run_dir}/manifest.json" \
    >"${run_dir}/expected-manifest.json"
  expected_manifest="${run_dir}/expected-manifest.json"
  reference_profile="${changed}"
  reference_control_topic="${control_topic}.reference"
}

# The step's outcome and checks, for the final report. Adds to $failures (verdict).
schedule_change_report() {
  [[ -n "${schedule_outcome}" ]] || return 0
  echo
  say "SCHEDULE CHANGE"
  if [[ "${schedule_outcome}" != sent ]]; then
    printf '  %-4s  %-28s %s\n' SKIP "schedule change" "${schedule_outcome#skipped: }"
    return 0
  fi
  local r="${schedule_round}" line kind at detail
  say "round ${r}: [$(iso_cst "${schedule_start_ms}"), $(iso_cst "${schedule_old_end_ms}")) extended to $(iso_cst "${schedule_new_end_ms}"); sent at event time $(iso_cst "${schedule_w_ms}")"
  psql_db "${database}" "SELECT '  ' || entry_id || '  ' || kind || '  effective ' || effective_at || '  ' || coalesce(detail, '')
      FROM round_ledger WHERE entry_id LIKE 'change-drill-%' ORDER BY source" | cut -c1-400
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-extend-r${r}" 0) || true
  if [[ "${kind}" == RESCHEDULED && "${at}" == "${schedule_old_end_ms}" ]]; then
    verdict PASS "change applied" "RESCHEDULED, effective_at the old end: ${detail}"
  else
    verdict FAIL "change applied" "${kind:-no line}, effective_at ${at:-?} (expected RESCHEDULED at ${schedule_old_end_ms}): ${detail}"
  fi
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-extend-r${r}/repeat/%" 0) || true
  check "change resent" "${kind}" CHANGE_REPEATED "${detail}"
  IFS='|' read -r kind at detail < <(wait_ledger_line "change-drill-close-r${r}" 0) || true
  if [[ "${kind}" == CHANGE_REFUSED && "${detail}" == *"in event time already decided"* ]]; then
    verdict PASS "change into decided time" "CHANGE_REFUSED: ${detail:0:160}…"
  else
    verdict FAIL "change into decided time" "${kind:-no line} (expected CHANGE_REFUSED, event time already decided): ${detail}"
  fi
  check "ledger lines of the changes" "$(psql_db "${database}" "SELECT count(*) FROM round_ledger WHERE entry_id LIKE 'change-%'")" 3 \
    "no other change line"
  check "desk counters" "applied ${schedule_desk_applied:-?}, refused ${schedule_desk_refused:-?}" "applied 1, refused 1" \
    "roundChangesApplied / roundChangesRefused of the desk, read at the step"

  # The expectation agrees with both manifests: what became valid is the drill's shakes plus the out-of-window
  # rejects that are no longer rejects.
  local m="${run_dir}/manifest.json" e="${run_dir}/extension-manifest.json" c="${run_dir}/count-as-changed.json"
  local ext_distinct ext_dups oow_before oow_after valid_before valid_after dups_before dups_after
  ext_distinct="$(jq '.expected.distinct_valid_events' "${e}")"
  ext_dups="$(jq '.expected.duplicates' "${e}")"
  oow_before="$(jq '.expected.rejected.OUT_OF_WINDOW // 0' "${m}")"
  oow_after="$(jq '.counts.rejected.OUT_OF_WINDOW // 0' "${c}")"
  valid_before="$(jq --arg r "${r}" '.expected.rounds[$r].distinct_events' "${m}")"
  valid_after="$(jq --arg r "${r}" '.counts.rounds[$r].distinct_events' "${c}")"
  dups_before="$(jq '.expected.duplicates' "${m}")"
  dups_after="$(jq '.counts.duplicates' "${c}")"
  check "expected extension shakes" "$((valid_after - valid_before))" "$((ext_distinct + oow_before - oow_after))" \
    "round ${r} gains ${ext_distinct} drill shakes + $((oow_before - oow_after)) former out-of-window shakes of the generator; retries +$((dups_after - dups_before)) of ${ext_dups}"
  check "expected retries" "$((dups_after - dups_before))" "${ext_dups}" "the extension run's retries, dropped as repeats"
  local minute counted expected paid paid_ref
  minute="$(date -u -d "@$((schedule_old_end_ms / 60000 * 60))" +%Y-%m-%dT%H:%M:%SZ)"
  counted="$(psql_db "${database}" "SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = ${r}
      AND minute_start >= '${minute}'")"
  expected="$(jq --arg r "${r}" --arg m "${minute}" '[.counts.rounds[$r].by_minute | to_entries[] | select(.key >= $m) | .value] | add // 0' "${c}")"
  check "extension counted" "${counted}" "${expected}" "round ${r}'s interactions in the minutes from ${minute} (the old end's)"
  paid="$(psql_db "${database}" "SELECT count(*) || ' payouts, ' || coalesce(sum(amount_fen), 0) || ' fen' FROM payout
      WHERE round_id = ${r} AND decided_at >= to_timestamp(${schedule_old_end_ms} / 1000.0)")"
  paid_ref="$(psql_db "${ref_database}" "SELECT count(*) || ' payouts, ' || coalesce(sum(amount_fen), 0) || ' fen' FROM payout
      WHERE round_id = ${r} AND decided_at >= to_timestamp(${schedule_old_end_ms} / 1000.0)")"
  check "extension paid" "${paid}" "${paid_ref}" "shakes of round ${r} in the extension, against the reference run"
}
