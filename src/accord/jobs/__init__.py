"""The node's background worker: periodic jobs (feed pulls, peer runs, webhook deliveries,
the warninglists' refresh) written once, as plain functions of the store and the settings
(`definitions`), and run

- on PostgreSQL by procrastinate (`procrastinate_runner`): each period deferred once however
  many workers run, failed runs retried with a backoff, the jobs kept in procrastinate's
  tables in the node's own schema (`accord.store.job_queue`);
- on SQLite in-process (`in_process`): an asyncio task per job, a database lease
  (`accord.store.job_runs`) giving each period to one process.

`accord serve` runs them in its processes; `accord worker` runs them alone; `accord jobs`
shows what they did (docs/jobs.md).
"""
