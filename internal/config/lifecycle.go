package config

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultArchiveAfter is how long a read set may go unread before it is
// archived, as in AWS HealthOmics: 30 days.
const DefaultArchiveAfter = 30 * Days

// Days is a day of 24 hours, the unit -archive-after accepts beside Go's.
const Days = 24 * time.Hour

// Lifecycle configures the read-set life cycle.
type Lifecycle struct {
	// ArchiveAfter is how long a read set may go unread before it moves
	// to the archive tier; zero never archives.
	ArchiveAfter time.Duration
	// ArchiveObjects is the archive tier: "" (beside the active objects),
	// "file" (a directory under DataDir), an absolute directory, or an S3
	// URL like -objects.
	ArchiveObjects string
	// ArchiveSweep is how often a node looks for read sets to archive;
	// zero picks a quarter of ArchiveAfter, at most an hour.
	ArchiveSweep time.Duration
	// DeletedRetention is how long a deleted read set stays listed as
	// DELETED (metadata only) before its record goes; zero removes the
	// record at once.
	DeletedRetention time.Duration
}

func (c *Config) registerLifecycle(fs *flag.FlagSet) {
	l := &c.Lifecycle
	c.ageSetting(fs, &l.ArchiveAfter, DefaultArchiveAfter, "archive-after", "ARCHIVE_AFTER",
		"how long a read set may go unread (GetReadSet, export) before it moves to the archive tier: a `duration` such as 720h, 30d or 5s; 0 never archives (default 30d, as in AWS; SEQSTORE_ARCHIVE_AFTER)")
	c.RegisterArchiveObjects(fs)
	c.ageSetting(fs, &l.DeletedRetention, 0, "deleted-retention", "DELETED_RETENTION",
		"how long a deleted read set stays listed as DELETED (metadata only, files gone) before its record is removed: a `duration` such as 24h, 7d or 5s; 0 removes it at once (default 0; SEQSTORE_DELETED_RETENTION)")
	fs.DurationVar(&l.ArchiveSweep, "archive-sweep", 0, "how often a node looks for read sets to archive (default: a quarter of -archive-after, at most 1h)")
}

// ageSetting defines a flag read by ParseAge into dst, whose default is
// the variable SEQSTORE_<variable> if set, else def.
func (c *Config) ageSetting(fs *flag.FlagSet, dst *time.Duration, def time.Duration, name, variable, usage string) {
	*dst = def
	if v := env(variable, ""); v != "" {
		d, err := ParseAge(v)
		if err != nil {
			c.envErrs = append(c.envErrs, fmt.Errorf("SEQSTORE_%s %w", variable, err))
		}
		*dst = d
	}
	fs.Func(name, usage, func(s string) (err error) {
		*dst, err = ParseAge(s)
		return err
	})
}

// RegisterArchiveObjects defines the flag that locates the archive tier,
// for serve and for commands (admin usage) that open it without serving.
func (c *Config) RegisterArchiveObjects(fs *flag.FlagSet) {
	fs.StringVar(&c.Lifecycle.ArchiveObjects, "archive-objects", env("ARCHIVE_OBJECTS", ""), "archive tier: an absolute `directory`, or s3://bucket/prefix?endpoint=URL&region=R like -objects; default: a folder beside the active objects (SEQSTORE_ARCHIVE_OBJECTS)")
}

// ParseAge reads a duration as Go writes them (720h, 90m, 5s) or in whole
// days (30d).
func ParseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q: write days as a whole number such as 30d", s)
		}
		return time.Duration(n) * Days, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: use a duration such as 720h, 30d or 5s, or 0", s)
	}
	return d, nil
}

// SweepInterval is how often to look for read sets to archive.
func (l Lifecycle) SweepInterval() time.Duration {
	if l.ArchiveSweep > 0 {
		return l.ArchiveSweep
	}
	return max(min(l.ArchiveAfter/4, time.Hour), time.Second)
}

// PurgeInterval is how often to remove the records of read sets deleted
// longer than DeletedRetention ago.
func (l Lifecycle) PurgeInterval() time.Duration {
	return max(min(l.DeletedRetention/4, time.Hour), time.Second)
}

// ArchiveTier locates the archive tier: a directory (Dir) or an S3
// location.
type ArchiveTier struct {
	Dir string
	S3  S3Location
}

// ArchiveLocation resolves -archive-objects.
func (c *Config) ArchiveLocation() (ArchiveTier, error) {
	a := c.Lifecycle.ArchiveObjects
	switch {
	case a == "" && c.Objects != "file":
		loc, err := c.S3()
		if err != nil {
			return ArchiveTier{}, err
		}
		loc.Prefix = strings.Trim(loc.Prefix+"-archive", "-")
		return ArchiveTier{S3: loc}, nil
	case a == "" || a == "file":
		return ArchiveTier{Dir: filepath.Join(c.DataDir, "archive")}, nil
	case strings.HasPrefix(a, "s3://"):
		loc, err := parseS3("archive-objects", a)
		return ArchiveTier{S3: loc}, err
	case filepath.IsAbs(a):
		return ArchiveTier{Dir: filepath.Clean(a)}, nil
	}
	return ArchiveTier{}, fmt.Errorf("-archive-objects %q: use an absolute directory, or s3://bucket/prefix?endpoint=URL&region=R", a)
}
