# shellcheck shell=bash
# Shared pieces of the drills (bin/chaos-drill, bin/dr-drill): logging, the job's state over Flink's REST API,
# the throttled generator, waiting for the rounds to settle, the fault-free reference run and the invariant checks.
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
    --profile "${profile}" --seed "${seed}" \
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
# per-user caps alone and the two runs must agree record by record.
reference_run() {
  say "reference run: the same topic, no faults, bounded, into ${ref_database}"
  # shellcheck disable=SC2046  # the opens are several flags
  java -Xmx1g $(sed -n 's/^ *all: *\(--add-.*\)$/\1/p' "${flink_conf}/config.yaml") \
    -Dlog4j.configurationFile="file:${flink_conf}/log4j-cli.properties" \
    -cp "${job_jar}:${flink_lib}/*" io.hongbao.jobs.PayoutJob --bounded \
    --bootstrap-servers "${bootstrap}" --profile "${profile}" --topic "${topic}" \
    --control-topic "${control_topic}" --dead-letter-topic "${dead_letter_topic}.reference" \
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
check() { # <name> <actual> <expected> [detail]
  if [[ "$2" == "$3" ]]; then verdict PASS "$1" "$2${4:+ ($4)}"; else verdict FAIL "$1" "$2, expected $3${4:+ ($4)}"; fi
}

payouts() { psql_db "$1" "SELECT payout_id || ' ' || user_id || ' ' || tier_id || ' ' || amount_fen FROM payout ORDER BY 1"; }

# Reconciliation, the comparison with the reference run, budgets, sweeps, rejects and counts; adds to $failures.
check_invariants() {
  local rounds reconcile_rc=0 missing extra differing overflow violations_of
  rounds="$(jq '.expected.rounds | length' "${run_dir}/manifest.json")"
  say "reconciliation (settlement-sink CLI) of ${database}"
  java -jar "${reconcile_jar}" --jdbc-url "jdbc:postgresql://${pg_host}:${pg_port}/${database}" --user hongbao_reconcile \
    --manifest "${run_dir}/manifest.json" --report "${run_dir}/reconciliation.json" >"${run_dir}/reconciliation.txt" 2>&1 || reconcile_rc=$?
  sed -n '/^Rounds/,/^$/p' "${run_dir}/reconciliation.txt"
  violations_of() { jq -r --arg c "$1" '.checks[$c].violations' "${run_dir}/reconciliation.json"; }

  payouts "${database}" >"${run_dir}/payouts.txt"
  payouts "${ref_database}" >"${run_dir}/reference-payouts.txt"
  missing="$(cut -d' ' -f1 "${run_dir}/payouts.txt" | comm -13 - <(cut -d' ' -f1 "${run_dir}/reference-payouts.txt") | wc -l)"
  extra="$(cut -d' ' -f1 "${run_dir}/payouts.txt" | comm -23 - <(cut -d' ' -f1 "${run_dir}/reference-payouts.txt") | wc -l)"
  differing="$(comm -3 "${run_dir}/payouts.txt" "${run_dir}/reference-payouts.txt" | wc -l)"
  overflow="$(psql_db "${ref_database}" "SELECT count(*) FROM round_ledger WHERE kind = 'SWEPT' AND detail NOT LIKE '%of 0 overflow winners%'")"

  echo
  say "INVARIANTS"
  check "reconciliation" "exit ${reconcile_rc}" "exit 0" "all $(jq '.checks | length' "${run_dir}/reconciliation.json") checks of the settlement CLI, with the manifest"
  check "lost transactions" "$(psql_db "${database}" 'SELECT count(*) FROM settlement_lost_transaction')" 0 "settlement_lost_transaction rows"
  check "prepared transactions left" "$(psql_db postgres "SELECT count(*) FROM pg_prepared_xacts WHERE database = '${database}'")" 0 "pg_prepared_xacts of ${database}"
  if [[ "${overflow}" == 0 ]]; then
    check "lost payouts" "${missing}" 0 "payouts of the fault-free run missing here; $(wc -l <"${run_dir}/reference-payouts.txt") in it"
    check "payouts beyond reference" "${extra}" 0 "payouts here that the fault-free run did not make"
    check "payouts differing" "$((differing - missing - extra))" 0 "same payout id, other user, tier or amount"
  else
    verdict FAIL "lost payouts" "cannot compare: budgets bound in the reference run (${overflow} rounds had overflow winners); use a profile whose budgets never bind"
  fi
  check "duplicate payouts" "$(($(violations_of DUPLICATE_PAYOUT_ID) + $(violations_of DUPLICATE_ROUND_EVENT) + $(violations_of SHARED_KAFKA_RECORD)))" 0 "same payout id, same (round, event), same Kafka record"
  local round paid budget reason expected
  while IFS='|' read -r round paid budget; do
    check "round ${round} fen over budget" "$((paid > budget ? paid - budget : 0))" 0 "paid ${paid} of ${budget} fen"
  done < <(psql_db "${database}" "SELECT r.round_id, coalesce(sum(p.amount_fen), 0), r.budget_fen FROM round r
      LEFT JOIN payout p USING (round_id) GROUP BY r.round_id, r.budget_fen ORDER BY 1")
  check "rounds swept" "$(psql_db "${database}" "SELECT count(DISTINCT round_id) FROM round_ledger WHERE kind = 'SWEPT'")" "${rounds}" "rounds with their SWEPT ledger line"
  while read -r reason expected; do
    check "rejects ${reason}" "$(psql_db "${database}" "SELECT coalesce(sum(records), 0) FROM rejected_count WHERE reason = '${reason}'")" "${expected}" "rejected_count against the manifest"
  done < <(jq -r '.expected.rejected | to_entries[] | "\(.key) \(.value)"' "${run_dir}/manifest.json")
  # Rejects no generated record carries: a shake decided too late or an event id reused would show here.
  for reason in LATE EVENT_ID_REUSED; do
    check "rejects ${reason}" "$(psql_db "${database}" "SELECT coalesce(sum(records), 0) FROM rejected_count WHERE reason = '${reason}'")" 0 "nothing late, no id reused"
  done
  if [[ "$(psql_db "${database}" "SELECT to_regclass('interaction_count') IS NOT NULL")" == t ]] \
      && [[ "$(psql_db "${database}" "SELECT EXISTS (SELECT 1 FROM interaction_count)")" == t ]]; then
    while read -r round expected; do
      check "round ${round} interactions" "$(psql_db "${database}" "SELECT coalesce(sum(shakes), 0) FROM interaction_count WHERE round_id = ${round}")" "${expected}" "sum(shakes) against the manifest's distinct valid events"
    done < <(jq -r '.expected.rounds | to_entries[] | "\(.key) \(.value.distinct_events)"' "${run_dir}/manifest.json")
  else
    printf '  %-4s  %-28s %s\n' "n/a" "interaction counts" "the job writes no interaction_count rows (yet)"
  fi
}
