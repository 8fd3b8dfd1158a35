package sqlmeta

import (
	"errors"
	"regexp"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite" // also registers the database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between SQLite and PostgreSQL, apart
// from the schema, which has a migration directory per dialect, and the
// claims (IngestClaim, JobItemClaim), whose dialects' ways sit side by side.
type dialect struct {
	name string
	// rewrite turns a query written with $n placeholders into the
	// dialect's own. SQLite reads $1 as a parameter named "$1" and numbers
	// named parameters by first appearance, so "SET a = $2 WHERE b = $1"
	// would bind the wrong way round; ?n is SQLite's numbered placeholder.
	rewrite func(query string) string
	// forUpdate ends a SELECT inside a transaction whose rows the
	// transaction goes on to guard or change, so no other transaction can
	// change them meanwhile. SQLite needs nothing: its transactions begin
	// IMMEDIATE and hold the database's one write lock until they end.
	forUpdate string
	// lockTags, run inside a transaction with the account and ARN as $1
	// and $2, keeps other transactions from changing that resource's tags
	// until it ends; tags have no parent row to lock, and their count must
	// not change between the check and the write. SQLite needs nothing.
	lockTags string
	// forShare is forUpdate for a row the transaction only needs to stay
	// as it read it.
	forShare string
	// retryable reports an error after which the whole transaction may be
	// tried again.
	retryable func(error) bool
	// contains is the condition that a text column holds the next
	// argument as a substring, exactly: LIKE would read '_' and '%' in it
	// as wildcards and, in SQLite, ignore letter case.
	contains func(column string) string
}

var dollarN = regexp.MustCompile(`\$(\d+)`)

var sqliteDialect = dialect{
	name:      "sqlite",
	rewrite:   func(q string) string { return dollarN.ReplaceAllString(q, "?$1") },
	forUpdate: "",
	forShare:  "",
	// The single writer connection and the busy timeout leave nothing to
	// retry: a writer either gets the lock or times out.
	retryable: func(error) bool { return false },
	contains:  func(column string) string { return "instr(" + column + ", ?) > 0" },
}

var postgresDialect = dialect{
	name:      "postgres",
	rewrite:   func(q string) string { return q },
	forUpdate: " FOR UPDATE",
	lockTags:  `SELECT pg_advisory_xact_lock(hashtextextended($1::text || ' ' || $2::text, 0))`,
	forShare:  " FOR SHARE",
	retryable: func(err error) bool {
		var pe *pgconn.PgError
		// serialization_failure, deadlock_detected
		return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
	},
	contains: func(column string) string { return "strpos(" + column + ", ?) > 0" },
}

type constraint int

const (
	noConstraint constraint = iota
	uniqueViolation
	foreignKeyViolation
)

// constraintOf reads which constraint, if any, a driver error reports.
func constraintOf(err error) constraint {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return uniqueViolation
		case "23503":
			return foreignKeyViolation
		}
		return noConstraint
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
	}
	return noConstraint
}

// isSQLiteBusy reports whether err is SQLite's "database is locked"
// (SQLITE_BUSY or one of its extended codes).
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
