# shellcheck shell=bash
# The chaos drill's faults, one function each (fault_<name>), shared by bin/chaos-drill and bin/rehearsal --faults.
# Sourced after bin/lib/drill.sh (say, die, psql_db). The caller sets: root, local_dir, rest, checkpoints (the job's
# checkpoint directory URI), database, generator_pid, quiet_seconds, and defines flink_cluster (bin/flink-cluster)
# and submit_job [--savepoint PATH] (submits the payout job, sets job_id).

tm_victim=0
fault_kill_taskmanager() {
  local tms victim
  mapfile -t tms < <(ls "${local_dir}/flink/pids/" | sed -n 's/^taskmanager-\([0-9]*\)\.pid$/\1/p' | sort -n)
  ((${#tms[@]} > 0)) || die "no TaskManager to kill"
  victim="${tms[$((tm_victim % ${#tms[@]}))]}"
  tm_victim=$((tm_victim + 1))
  say "FAULT kill -9 TaskManager ${victim}: $(flink_cluster kill-taskmanager "${victim}" | sed 's/^\[flink-cluster\] //')"
  flink_cluster start-taskmanager | sed -n 's/^\[flink-cluster\] /  /p'
  say "  replacement TaskManager registered"
}

fault_kill_jobmanager() {
  say "FAULT kill -9 JobManager: $(flink_cluster kill-jobmanager | sed 's/^\[flink-cluster\] //')"
  flink_cluster start-jobmanager | sed -n 's/^\[flink-cluster\] /  /p'
  # The old job's tasks must be gone before the job comes back: a zombie writer could otherwise prepare a
  # PostgreSQL transaction after the new job's orphan cleanup. The TaskManagers cancel them when they lose
  # the old JobManager; they then register with the new one with all slots free.
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
