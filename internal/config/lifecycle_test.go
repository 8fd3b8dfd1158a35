package config

import (
	"path/filepath"
	"testing"
	"time"
)

func TestLifecycleSettings(t *testing.T) {
	clear := map[string]string{"SEQSTORE_ARCHIVE_AFTER": "", "SEQSTORE_ARCHIVE_OBJECTS": "", "SEQSTORE_OBJECTS": "", "SEQSTORE_DELETED_RETENTION": ""}
	for _, c := range []settingsCase{
		{name: "defaults", describe: "30 days, a folder beside the objects, hourly sweeps", env: clear,
			want: func(c *Config) bool {
				tier, err := c.ArchiveLocation()
				return c.Lifecycle.ArchiveAfter == 30*24*time.Hour && err == nil && tier.Dir == filepath.Join(c.DataDir, "archive") &&
					c.Lifecycle.SweepInterval() == time.Hour && c.Lifecycle.DeletedRetention == 0
			}},
		{name: "deleted retention in days", args: []string{"-deleted-retention", "7d"}, describe: "a week, purged hourly",
			want: func(c *Config) bool {
				return c.Lifecycle.DeletedRetention == 7*24*time.Hour && c.Lifecycle.PurgeInterval() == time.Hour
			}},
		{name: "deleted retention from a variable", env: map[string]string{"SEQSTORE_DELETED_RETENTION": "8s"}, describe: "8s, purged every 2s",
			want: func(c *Config) bool {
				return c.Lifecycle.DeletedRetention == 8*time.Second && c.Lifecycle.PurgeInterval() == 2*time.Second
			}},
		{name: "a bad deleted retention", args: []string{"-deleted-retention", "a while"}, wantErr: "720h, 30d or 5s"},
		{name: "days", args: []string{"-archive-after", "7d"}, describe: "a week",
			want: func(c *Config) bool { return c.Lifecycle.ArchiveAfter == 7*24*time.Hour }},
		{name: "a Go duration", args: []string{"-archive-after", "5s"}, describe: "5s, swept every quarter of it",
			want: func(c *Config) bool {
				return c.Lifecycle.ArchiveAfter == 5*time.Second && c.Lifecycle.SweepInterval() == 1250*time.Millisecond
			}},
		{name: "off", args: []string{"-archive-after", "0"}, describe: "no archiving",
			want: func(c *Config) bool { return c.Lifecycle.ArchiveAfter == 0 }},
		{name: "a variable", env: map[string]string{"SEQSTORE_ARCHIVE_AFTER": "720h"}, describe: "720h",
			want: func(c *Config) bool { return c.Lifecycle.ArchiveAfter == 720*time.Hour }},
		{name: "a directory", args: []string{"-archive-objects", "/srv/cold"}, describe: "that directory",
			want: func(c *Config) bool { tier, err := c.ArchiveLocation(); return err == nil && tier.Dir == "/srv/cold" }},
		{name: "an S3 archive", args: []string{"-archive-objects", "s3://cold/reads?endpoint=http://127.0.0.1:9000"}, describe: "bucket cold, prefix reads",
			want: func(c *Config) bool {
				tier, err := c.ArchiveLocation()
				return err == nil && tier.Dir == "" && tier.S3.Bucket == "cold" && tier.S3.Prefix == "reads"
			}},
		{name: "beside S3 objects", args: []string{"-objects", "s3://hot/seqstore?endpoint=http://127.0.0.1:9000"}, describe: "the same bucket, prefix seqstore-archive",
			want: func(c *Config) bool {
				tier, err := c.ArchiveLocation()
				return err == nil && tier.S3.Bucket == "hot" && tier.S3.Prefix == "seqstore-archive"
			}},
		{name: "fractional days", args: []string{"-archive-after", "1.5d"}, wantErr: "whole number"},
		{name: "a negative period", args: []string{"-archive-after", "-5s"}, wantErr: "720h, 30d or 5s, or 0"},
		{name: "a bad variable", env: map[string]string{"SEQSTORE_ARCHIVE_AFTER": "soon"}, wantErr: "SEQSTORE_ARCHIVE_AFTER"},
		{name: "a relative directory", args: []string{"-archive-objects", "cold"}, wantErr: "absolute directory"},
		{name: "a bad S3 URL", args: []string{"-archive-objects", "s3://"}, wantErr: "-archive-objects"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseWith(t, c.env, c.args, c.wantErr)
			if cfg != nil && !c.want(cfg) {
				t.Fatalf("got %+v; want %s", cfg.Lifecycle, c.describe)
			}
		})
	}
}
