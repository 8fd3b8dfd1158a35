// Package jobs is seqstore's one durable job engine: the loop that claims
// work under leases from the metadata store and runs it, for read-set
// ingestion and for the items of jobs (imports, exports, and later
// reference imports, activations and archival).
//
// Work lives in rows of the metadata store (SQLite or PostgreSQL), never
// only in memory. A Runner claims a task from a Queue under a lease, renews
// the lease every third of its length while the task runs, and stops the
// task when the lease is lost. A node that dies leaves its leases to run
// out, and then another node, or the same one after a restart, claims the
// work and does it again from the start; a graceful shutdown gives its
// leases back at once. Every claim counts an attempt, and work abandoned
// more than MaxAttempts times is given up instead of bringing its node down
// at every restart. Work therefore never ends half done, and is recorded
// done once: the record of an end checks the lease in the same transaction.
//
// Items adapts the queue to jobs: it claims items of the kinds it has a
// Handler for (meta.Jobs), runs the handler, and records the item FINISHED
// or FAILED; the metadata store ends the job with its last item.
//
// Concurrency is bounded per node: Runner.Workers tasks at once (for jobs,
// items at once; jobs share them through the claim's fairness, see Items).
// Bounds on bytes in flight belong to the handlers, which know their
// transfers.
//
// # Why not River
//
// github.com/riverqueue/river was weighed before writing this package. It
// is a well-kept job queue with retries, scheduling, uniqueness and a
// rescuer for stuck jobs, with drivers for PostgreSQL (pgx, or database/sql)
// and, recently, SQLite. Against it:
//
//   - Its SQLite driver says of itself that it is in early testing with
//     little real-world use, that it wants the pool cut to one connection to
//     avoid SQLITE_BUSY, and that it completes jobs one row at a time; the
//     embedded SQLite store is seqstore's default, not a side option.
//   - It brings its own schema (river_job, river_queue, river_leader, ...)
//     and migration lines, applied by its own migrator, beside the
//     metadata store's numbered migrations, and on PostgreSQL it is built
//     around a pgx pool, with LISTEN/NOTIFY and leader election, where
//     package sqlmeta runs everything through database/sql and its own
//     SQLite writer connection. Two schemas and two ways of reaching the
//     database would have to be kept in step.
//   - Its jobs are flat rows; the API's jobs are a job with items, whose
//     statuses the API reports and whose ends must end the job in the same
//     transaction. Those tables are needed whatever runs the items, so River
//     would add a second record of the same work, to be kept in step.
//   - It finds a dead node's jobs by how long they have been running (its
//     rescuer's RescueStuckJobsAfter, an hour by default), not by a lease
//     the running node renews: an ingestion or a transfer of hundreds of
//     gigabytes runs for hours, so a limit long enough for it would leave
//     a dead node's work waiting hours, where a one-minute lease hands it
//     over in a minute.
//   - Its queues and priorities have no notion of sharing the workers
//     fairly across accounts and jobs, which the claim here does in SQL.
//
// The per-row lease, attempt count and fair claim already ran ingestion;
// this package lifts that loop out of package readset so every kind of work
// shares it, and adds job items beside read sets in the same store.
package jobs
