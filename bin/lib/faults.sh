# shellcheck shell=bash
# The chaos drill's faults, one function each (fault_<name>), shared by bin/chaos-drill and bin/rehearsal --faults.
# Sourced after bin/lib/drill.sh (say, die, psql_db). The caller sets: root, local_dir, rest, checkpoints (the job's
# checkpoint directory URI), database, generator_pid, quiet_seconds, job_id, parallelism, run_dir, and defines
# flink_cluster (bin/flink-cluster) and submit_job [--savepoint PATH] (submits the payout job, sets job_id);
# job_running, job_json and wait_job_healthy come from drill.sh. With HA (HONGBAO_FLINK_HA=zookeeper) also
# rest_port and the array failovers (one "<seconds> <restored> <latest before>" line per JobManager failover).

tm_victim=0
fault_kill_taskmanager() {
  local tms victim
  # A TaskManager holding a slot of the job (the only job on the cluster): one with all its slots free runs none
  # of it, and killing it is no fault of the job (no restart, and no restart alert to expect). Its index is in its
  # resource id (bin/flink-cluster: tm-<index>-<start time>).
  mapfile -t tms < <(curl -fsS -m 5 "${rest}/taskmanagers" \
    | jq -r '.taskmanagers[] | select(.freeSlots < .slotsNumber) | .id' | sed -n 's/^tm-\([0-9]*\)-.*$/\1/p' | sort -n)
  ((${#tms[@]} > 0)) || die "no TaskManager holds a slot of the job"
  victim="${tms[$((tm_victim % ${#tms[@]}))]}"
  tm_victim=$((tm_victim + 1))
  say "FAULT kill -9 TaskManager ${victim}: $(flink_cluster kill-taskmanager "${victim}" | sed 's/^\[flink-cluster\] //')"
  flink_cluster start-taskmanager | sed -n 's/^\[flink-cluster\] /  /p'
  say "  replacement TaskManager registered"
}

# The leading JobManager killed; the standby must take over and recover the job by itself: same job id, restored
# from the latest completed checkpoint (or one completed after it was read), no resubmission. Measures the time from
# the kill until the job runs again with every task running. The killed JobManager is then started again as the
# new standby (what a supervisor does), after the measurement so that its start does not slow the failover.
# No wait for the old tasks here (the resubmission this replaced waited for free slots): a task of the dead leader
# can prepare a settlement transaction only at a barrier of the dead leader's checkpoint coordinator; those reach
# the sinks within moments, long before the standby (~10 s later) deploys the job again and rolls back what its
# checkpoint does not know, and the TaskManagers fail the old tasks when they see the leader change. A barrier held
# up past that restore would leave a transaction prepared: the "prepared transactions left" check would fail.
fault_kill_leading_jobmanager() {
  local leader standby latest_before t0 seconds restored
  leader="$(flink_cluster leader | cut -d' ' -f1)"
  [[ -n "${leader}" ]] || die "no leading JobManager"
  latest_before="$(curl -fsS -m 5 "${rest}/jobs/${job_id}/checkpoints" | jq -r '.latest.completed.id // 0')"
  standby=$((1 - leader))
  t0=$(date +%s%N)
  say "FAULT kill -9 the leading JobManager (latest completed checkpoint ${latest_before}): $(flink_cluster kill-jobmanager "${leader}" | sed 's/^\[flink-cluster\] //')"
  # The standby's REST endpoint: 503 while no JobManager leads, then the job as the new leader recovers it.
  rest="http://127.0.0.1:$((rest_port + standby))"
  local deadline=$((SECONDS + 120))
  until job_running; do
    ((SECONDS < deadline)) || die "the standby JobManager did not bring job ${job_id} back to RUNNING within 120 s"
    sleep 0.5
  done
  seconds="$(printf '%.1f' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3")"
  restored="$(curl -fsS -m 5 "${rest}/jobs/${job_id}/checkpoints" | jq -r '.latest.restored.id // "none"')"
  failovers+=("${seconds} ${restored} ${latest_before}")
  # When the standby was elected, from its own log (the Dispatcher's "granted leadership"): the part of the
  # failover that is the dead leader's ZooKeeper session expiring; the rest is recovering and deploying the job.
  local standby_log elected="" elected_ms
  standby_log="${local_dir}/flink/logs/jobmanager$( ((standby == 0)) || printf -- '-%s' "${standby}").log"
  elected_ms="$(grep 'DefaultDispatcherRunner was granted leadership' "${standby_log}" 2>/dev/null | tail -n 1 \
      | cut -c1-23 | tr ',' '.' | xargs -r -I{} date -d {} +%s%3N 2>/dev/null || true)"
  if [[ -n "${elected_ms}" ]] && ((elected_ms * 1000000 >= t0)); then
    elected="$(printf '%.1f' "$(( elected_ms - t0 / 1000000 ))e-3") s after the kill the standby was elected, "
  fi
  say "  JobManager failover: ${elected}job ${job_id} RUNNING again ${seconds} s after the kill, recovered by the standby (REST ${rest}) from checkpoint ${restored} (latest completed before the kill: ${latest_before}), no resubmission"
  flink_cluster start-jobmanager "${leader}" | sed -n 's/^\[flink-cluster\] /  /p'
  say "  the killed JobManager restarted as the new standby"
}

# Without HA (bin/rehearsal's cluster): the JobManager killed and a new one started; the job resubmitted from its
# latest retained checkpoint. The old job's tasks must be gone before the job comes back: a zombie writer could
# otherwise prepare a PostgreSQL transaction after the new job's orphan cleanup. The TaskManagers cancel them when
# they lose the old JobManager; they then register with the new one with all slots free.
fault_kill_jobmanager_and_resubmit() {
  say "FAULT kill -9 JobManager: $(flink_cluster kill-jobmanager | sed 's/^\[flink-cluster\] //')"
  flink_cluster start-jobmanager | sed -n 's/^\[flink-cluster\] /  /p'
  local deadline=$((SECONDS + 90)) overview
  while :; do
    overview="$(curl -fsS -m 5 "${rest}/overview" 2>/dev/null || true)"
    if [[ -n "${overview}" ]] && jq -e '.taskmanagers >= 2 and ."slots-available" == ."slots-total"' \
        <<<"${overview}" >/dev/null; then
      break
    fi
    ((SECONDS < deadline)) || die "the TaskManagers did not come back to the new JobManager with free slots"
    sleep 1
  done
  say "  TaskManagers re-registered with all slots free"
  local latest
  latest="$(flink_cluster latest-checkpoint "${checkpoints}")"
  say "  latest retained checkpoint: ${latest}"
  submit_job --savepoint "${latest}"
}

# The JobManager fault for the cluster at hand: with ZooKeeper HA (bin/chaos-drill) the standby recovers the job;
# without it (bin/rehearsal) the job is resubmitted.
fault_kill_jobmanager() {
  if [[ "${HONGBAO_FLINK_HA:-none}" == zookeeper ]]; then
    fault_kill_leading_jobmanager
  else
    fault_kill_jobmanager_and_resubmit
  fi
}

# Rescaling as operators do it on a session cluster: stop with a savepoint (the sink commits what it covers), then
# resubmit from it at the new parallelism. Keyed state (budget shards, user caps, identities, counts) moves with
# its key groups; the settlement writers at the new parallelism own every old subtask's transactions.
fault_rescale() { # <parallelism>
  local savepoint
  say "RESCALE ${parallelism} -> $1: stop with a savepoint, resubmit from it at parallelism $1"
  savepoint="$(flink_cluster stop-job "${job_id}" "file://${run_dir}/savepoints")"
  say "  stopped with savepoint ${savepoint}"
  # Where in the gala: mid-round when the round being counted has no SWEPT line yet.
  say "  interactions so far per round: $(psql_db "${database}" "SELECT coalesce(string_agg(round_id || ': ' ||
      shakes, ', ' ORDER BY round_id), 'none') FROM interaction_round"); rounds swept: $(psql_db "${database}" \
      "SELECT coalesce(string_agg(round_id::text, ', ' ORDER BY round_id), 'none') FROM round_ledger WHERE kind = 'SWEPT'")"
  parallelism="$1"
  submit_job --savepoint "${savepoint}"
  wait_job_healthy 180
  # Every operator at the new parallelism, but the profile's two never-parallel sources (fromData) and the round
  # change desk, which decides every change once (parallelism and max parallelism 1, PayoutPipeline).
  local running
  running="$(job_json | jq -c '[.vertices[] | select(.name | test("^Source: (configured rounds|round config from profile)|^decide round changes") | not)
      | .parallelism] | unique')"
  [[ "${running}" == "[$1]" ]] || die "after the rescale the job's operators run at ${running}, not $1"
  say "  job running at parallelism $1 from the savepoint"
}
fault_rescale_to_4() { fault_rescale 4; }
fault_rescale_to_1() { fault_rescale 1; }

fault_restart_kafka() {
  say "FAULT restart the Kafka broker"
  bin/local-stack stop | sed -n 's/^\[local-stack\] /  /p'
  bin/local-stack start | sed -n 's/^\[local-stack\] /  /p'
}

fault_quiet_spell() {
  if ! kill -0 "${generator_pid}" 2>/dev/null; then
    say "FAULT quiet spell: skipped, the generator has finished"
    return
  fi
  say "FAULT quiet spell: the generator frozen for ${quiet_seconds} s (no shake and no tick on any partition)"
  kill -STOP "${generator_pid}"
  sleep "${quiet_seconds}"
  kill -CONT "${generator_pid}"
  say "  generator resumed"
}

fault_terminate_pg_connections() {
  local killed
  killed="$(psql_db postgres "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = '${database}' AND pid <> pg_backend_pid()) t")"
  say "FAULT pg_terminate_backend: terminated ${killed} connection(s) to ${database}"
}
