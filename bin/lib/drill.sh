# shellcheck shell=bash
# Shared pieces of the drills (bin/chaos-drill, bin/dr-drill): logging, the job's state over Flink's REST API,
# the throttled generator, waiting for the rounds to settle, the fault-free reference run and the invariant checks
# (the money checks from the settlement CLI's JSON report; see check_invariants).
# Sourced, not run. The caller sets these globals first:
#   root, local_dir, run_dir, bootstrap, rest, pg_host, pg_port, profile, seed, events_per_round, produce_rate,
#   topic, control_topic, dead_letter_topic, database, ref_database, job_jar, ingest_jar, reconcile_jar
# and, for the reference run, flink_conf (a rendered Flink conf dir) and flink_lib (the cluster's jars).

started=$(date +%s%N)
job_id=""
generator_pid=""
# A drill's own generator options (e.g. --stall-partition), set before this file is sourced.
declare -p generator_extra_args >/dev/null 2>&1 || generator_extra_args=()
failures=0

say() { printf '[%s T+%6.1fs] %s\n' "$(date +%H:%M:%S)" "$(( ($(date +%s%N) - started) / 1000000 ))e-3" "$*"; }
die() { say "DRILL ERROR: $*" >&2; exit 1; }
psql_db() { psql -h "${pg_host}" -p "${pg_port}" -U postgres -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# ------------------------------------------------------------------------------------------------ job state

job_json() { curl -fsS -m 5 "${rest}/jobs/${job_id}" 2>/dev/null; }

# Epoch ms of the job's latest completed checkpoint (0 if none).
latest_checkpoint_ms() {
  curl -fsS -m 5 "${rest}/jobs/${job_id}/checkpoints" 2>/dev/null \
    | jq -r '.latest.completed.latest_ack_timestamp // 0' 2>/dev/null || echo 0
}

# True when the job runs with every task running (or finished: the round-config source is bounded).
job_running() {
  [[ "$(job_json | jq -r '.state as $s | [.vertices[].status] | all(. == "RUNNING" or . == "FINISHED") and $s == "RUNNING"' 2>/dev/null)" == true ]]
}

# Waits until the job runs and has completed a checkpoint after now.
wait_job_healthy() { # <timeout s>
  local since deadline=$((SECONDS + $1))
  since=$(($(date +%s%N) / 1000000))
  while :; do
    if job_running && (($(latest_checkpoint_ms) > since)); then
      return 0
    fi
    ((SECONDS < deadline)) || die "job ${job_id} not running with a fresh checkpoint within $1 s (logs: ${flink_logs:-${local_dir}/flink/logs})"
    sleep 1
  done
}

# ------------------------------------------------------------------------------------------- jars, generator

# The drill runs on copies: a rebuild during the drill must not change the jar a restart resubmits.
copy_jars() { # [more jars...]
  if [[ ! -f "${job_jar}" || ! -f "${ingest_jar}" || ! -f "${reconcile_jar}" ]]; then
    say "building the jars (./mvnw -DskipTests package)"
    (cd "${root}" && ./mvnw -q -B -DskipTests package)
  fi
  mkdir -p "${run_dir}/jars"
  cp "${job_jar}" "${ingest_jar}" "${reconcile_jar}" "$@" "${run_dir}/jars/"
  job_jar="${run_dir}/jars/${job_jar##*/}"
  ingest_jar="${run_dir}/jars/${ingest_jar##*/}"
  reconcile_jar="${run_dir}/jars/${reconcile_jar##*/}"
}

# The generator is throttled by the broker (a client quota on its client id), so that it produces for minutes
# while the faults happen; the job itself keeps up easily.
throttle_generator() {
  java -Xmx256m -Dlog4j2.level=ERROR -cp "${local_dir}/kafka/libs/*" kafka.admin.ConfigCommand \
    --bootstrap-server "${bootstrap}" --alter --add-config "producer_byte_rate=${produce_rate}" \
    --entity-type clients --entity-name hongbao-drill-generator >/dev/null
  # The drills' generator has a client id of its own, so the quota (which outlives the drill on the broker)
  # never throttles bin/run-local's or the benchmark's generator on the same local broker.
  say "generator throttled to ${produce_rate} bytes/s (Kafka client quota on client id hongbao-drill-generator)"
}

# The shake topic first, so the job finds its partitions at start; the generator then uses it as it is.
create_shake_topic() {
  local partitions
  partitions="$(sed -n 's/^ *partitions: *\([0-9]*\).*/\1/p' "${profile}")"
  java -Xmx128m -Dlog4j2.level=OFF -cp "${local_dir}/kafka/libs/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "${bootstrap}" --create --topic "${topic}" --partitions "${partitions}" --replication-factor 1 \
    >/dev/null
}

start_generator() {
  # A small producer buffer: send() then waits for the throttled broker instead of queueing the whole data set,
  # whose batches would expire (delivery.timeout.ms) before the quota lets them through. Generous timeouts so
  # that a broker restart is waited out rather than failing the run.
  cat >"${run_dir}/generator-kafka.properties" <<'PROPS'
batch.size=16384
buffer.memory=65536
max.block.ms=600000
delivery.timeout.ms=600000
request.timeout.ms=30000
client.id=hongbao-drill-generator
PROPS
  java -jar "${ingest_jar}" generate --bootstrap-servers "${bootstrap}" --kafka-config "${run_dir}/generator-kafka.properties" \
    --profile "${generator_profile:-${profile}}" --seed "${seed}" \
    --events-per-round "${events_per_round}" --topic "${topic}" --manifest "${run_dir}/manifest.json" \
    "${generator_extra_args[@]}" >"${run_dir}/generator.log" 2>&1 &
  generator_pid=$!
}

generator_failed() { grep -q '^error' "${run_dir}/generator.log"; }

wait_generator() {
  wait "${generator_pid}" || { generator_pid=""; tail -n 20 "${run_dir}/generator.log" >&2; die "the generator failed"; }
  generator_pid=""
  say "generator finished: $(grep '^generated' "${run_dir}/generator.log")"
}

# A round ends when event time passes its end: for the last round that is when the shake partitions have
# been idle for the job's idleness timeout. Then wait until the settled figures stop moving.
wait_settled() {
  local rounds deadline previous="" stable=0
  rounds="$(jq '.expected.rounds | length' "${run_dir}/manifest.json")"
  say "waiting until all ${rounds} rounds are swept and the settled figures stop changing"
  deadline=$((SECONDS + 300))
  while :; do
    figures="$(psql_db "${database}" "SELECT (SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT') || ' swept, '
        || (SELECT count(*) FROM payout) || ' payouts, ' || (SELECT coalesce(sum(records), 0) FROM rejected_count)
        || ' rejects'")"
    if [[ "${figures}" == "${previous}" && "${figures%% *}" -ge "${rounds}" ]]; then
      stable=$((stable + 1))
      ((stable >= 3)) && break
    else
      stable=0
    fi
    previous="${figures}"
    ((SECONDS < deadline)) || die "not settled within 300 s: ${figures}"
    sleep 3
  done
  say "settled: ${figures}"
}

# ------------------------------------------------------------------------------------ the reference run

# The same records through the same job without faults (bounded, a local MiniCluster on the cluster's jars),
# into its own database: the drill profiles' budgets never bind, so the payouts are fixed by the draw and the
# per-user caps alone and the two runs must agree record by record. A drill that changed the schedule live sets
# reference_profile (the schedule as changed) and reference_control_topic (bin/lib/schedule-change.sh says why).
reference_run() {
  say "reference run: the same topic, no faults, bounded, into ${ref_database}${reference_profile:+, profile ${reference_profile##*/}}"
  # shellcheck disable=SC2046  # the opens are several flags
  java -Xmx1g $(sed -n 's/^ *all: *\(--add-.*\)$/\1/p' "${flink_conf}/config.yaml") \
    -Dlog4j.configurationFile="file:${flink_conf}/log4j-cli.properties" \
    -cp "${job_jar}:${flink_lib}/*" io.hongbao.jobs.PayoutJob --bounded \
    --bootstrap-servers "${bootstrap}" --profile "${reference_profile:-${profile}}" --topic "${topic}" \
    --control-topic "${reference_control_topic:-${control_topic}}" --dead-letter-topic "${dead_letter_topic}.reference" \
    --jdbc-url "jdbc:postgresql://${pg_host}:${pg_port}/${ref_database}" --jdbc-user hongbao_job \
    --draw-secret-file "${local_dir}/draw.secret" --shards 16 \
    --checkpoint-dir "file://${run_dir}/reference-checkpoints" --checkpoint-interval PT1S \
    >"${run_dir}/reference.log" 2>&1 || { tail -n 30 "${run_dir}/reference.log" >&2; die "the reference run failed"; }
  say "reference run done"
}

# ------------------------------------------------------------------------------------------- invariants

verdict() { # <PASS|FAIL> <name> <detail>
  [[ "$1" == PASS ]] || failures=$((failures + 1))
  printf '  %-4s  %-28s %s\n' "$1" "$2" "$3"
}
check() { # <name> <actual> <expected> [detail]; a missing actual figure is a FAIL, never "n/a"
  if [[ -z "$2" ]]; then
    verdict FAIL "$1" "figure missing, expected $3${4:+ ($4)}"
  elif [[ "$2" == "$3" ]]; then
    verdict PASS "$1" "$2${4:+ ($4)}"
  else
    verdict FAIL "$1" "$2, expected $3${4:+ ($4)}"
  fi
}

payouts() { psql_db "$1" "SELECT payout_id || ' ' || user_id || ' ' || tier_id || ' ' || amount_fen FROM payout ORDER BY 1"; }

# A figure of the reconciliation report: the jq filter's non-null results, nothing when the report, or the figure
# in it, is missing (check() then fails). Always succeeds, so that set -e does not end the drill on a missing
# figure before it is reported. [jq options, e.g. --arg c NAME]
report_figure() { # <filter> [jq options]
  local filter="$1"
  shift
  [[ -s "${report}" ]] || return 0
  jq -r "$@" "(${filter}) | values" "${report}" 2>/dev/null || true
}

# The money checks are the settlement CLI's: it reads the reconciliation views of the settlement database
# (settlement-sink's V13: reconciliation_summary, _violation, _round, settlement_prepared_pending) and compares the
# counts with the manifest; the drill reads its JSON report, never the tables, for them. What one database cannot
# answer stays here: the comparison with the fault-free reference run's database (lost, extra, differing payouts).
# The expected counts are the generator's manifest, or $expected_manifest when the drill set one (a live schedule
# change makes other shakes valid). Adds to $failures.
check_invariants() {
  local rounds reconcile_rc=0 missing extra differing overflow manifest="${expected_manifest:-${run_dir}/manifest.json}"
  report="${run_dir}/reconciliation.json"
  rounds="$(jq '.expected.rounds | length' "${manifest}")"
  say "reconciliation (settlement-sink CLI) of ${database}"
  rm -f "${report}"
  java -jar "${reconcile_jar}" --jdbc-url "jdbc:postgresql://${pg_host}:${pg_port}/${database}" --user hongbao_reconcile \
    --manifest "${manifest}" --report "${report}" >"${run_dir}/reconciliation.txt" 2>&1 || reconcile_rc=$?
  sed -n '/^Rounds/,/^$/p' "${run_dir}/reconciliation.txt"

  payouts "${database}" >"${run_dir}/payouts.txt"
  payouts "${ref_database}" >"${run_dir}/reference-payouts.txt"
  missing="$(cut -d' ' -f1 "${run_dir}/payouts.txt" | comm -13 - <(cut -d' ' -f1 "${run_dir}/reference-payouts.txt") | wc -l)"
  extra="$(cut -d' ' -f1 "${run_dir}/payouts.txt" | comm -23 - <(cut -d' ' -f1 "${run_dir}/reference-payouts.txt") | wc -l)"
  differing="$(comm -3 "${run_dir}/payouts.txt" "${run_dir}/reference-payouts.txt" | wc -l)"
  overflow="$(psql_db "${ref_database}" "SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND detail NOT LIKE '%of 0 overflow winners%'")"

  echo
  say "INVARIANTS"
  check "reconciliation" "exit ${reconcile_rc}" "exit 0" "the settlement CLI with ${manifest##*/}; report ${report##*/}"
  # Every check in the report, and those the drill relies on whether the report has them or not.
  local name names
  mapfile -t names < <(report_figure '.checks | keys_unsorted[]')
  for name in OVER_BUDGET TIER_CAP_EXCEEDED USER_WINS_PER_ROUND_EXCEEDED USER_FEN_PER_GALA_EXCEEDED DUPLICATE_PAYOUT_ID \
      DUPLICATE_ROUND_EVENT SHARED_KAFKA_RECORD LOST_TRANSACTION QUARANTINED INTERACTION_COUNT_MISMATCH \
      REJECT_COUNT_MISMATCH; do
    [[ " ${names[*]} " == *" ${name} "* ]] || names+=("${name}")
  done
  for name in "${names[@]}"; do
    check "${name}" "$(report_figure '.checks[$c].violations' --arg c "${name}")" 0 \
      "$(report_figure '.checks[$c] | (.listed[0] | values | "first: \(.subject): \(.detail)") // .rule' --arg c "${name}")"
  done
  check "prepared transactions left" "$(report_figure '.pendingPreparedTransactions')" 0 "settlement transactions of ${database} prepared, not committed"
  check "rounds reconciled" "$(report_figure '.rounds | length')" "${rounds}" "rounds in the report, against the manifest"
  local round over paid budget counted reason expected
  while IFS='|' read -r round over paid budget; do
    check "round ${round} over budget" "${over}" false "paid ${paid} of ${budget} fen"
  done < <(report_figure '.rounds[] | [.roundId, .overBudget, .paidFen, .budgetFen] | map(if . == null then "" else tostring end) | join("|")')
  check "rounds swept" "$(report_figure '[.rounds[] | select(.swept == true)] | length')" "${rounds}" "rounds with their SWEPT ledger line"
  while read -r round expected; do
    counted="$(report_figure '.counts.interactionsPerRound[] | select(.roundId == ($r | tonumber)) | .counted' --arg r "${round}")"
    check "round ${round} interactions" "${counted}" "${expected}" "counted against ${manifest##*/}'s distinct valid events"
  done < <(jq -r '.expected.rounds | to_entries[] | "\(.key) \(.value.distinct_events)"' "${manifest}")
  while read -r reason expected; do
    counted="$(report_figure '.counts.rejectedPerReason[] | select(.reason == $r) | .counted' --arg r "${reason}")"
    check "rejects ${reason}" "${counted}" "${expected}" "rejected_count against ${manifest##*/}"
  done < <(jq -r '.expected.rejected | to_entries[] | "\(.key) \(.value)"' "${manifest}")
  # Rejects no generated record carries: a shake decided too late or an event id reused would show here. No row
  # for the reason is 0; no reject figures in the report at all is a missing figure.
  for reason in LATE EVENT_ID_REUSED; do
    counted="$(report_figure '.counts.rejectedPerReason | [.[] | select(.reason == $r) | .counted] | add // 0' --arg r "${reason}")"
    check "rejects ${reason}" "${counted}" 0 "nothing late, no id reused"
  done
  if [[ "${overflow}" == 0 ]]; then
    check "lost payouts" "${missing}" 0 "payouts of the fault-free run missing here; $(wc -l <"${run_dir}/reference-payouts.txt") in it"
    check "payouts beyond reference" "${extra}" 0 "payouts here that the fault-free run did not make"
    check "payouts differing" "$((differing - missing - extra))" 0 "same payout id, other user, tier or amount"
  else
    verdict FAIL "lost payouts" "cannot compare: budgets bound in the reference run (${overflow} rounds had overflow winners); use a profile whose budgets never bind"
  fi
}
