package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/seqstore/seqstore/internal/analyze"
)

func TestAPIListenerFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string // "" = accepted
	}{
		{"the defaults", nil, ""},
		{"a certificate and its key", []string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, ""},
		{"a certificate without its key", []string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key go together"},
		{"a key without its certificate", []string{"-tls-key", "k.pem"}, "-tls-cert and -tls-key go together"},
		{"a negative connection cap", []string{"-max-conns", "-1"}, "must not be negative"},
		{"no idle timeout", []string{"-idle-timeout", "0s"}, "must be positive"},
		{"a rate judged over less than a second", []string{"-body-rate-window", "100ms"}, "at least 1s"},
		{"the rate check off, whatever the window", []string{"-min-body-rate", "0", "-body-rate-window", "0s"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			c := Register(fs)
			if err := fs.Parse(append([]string{"-data", t.TempDir()}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			err := c.Finish()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("got %v, want an error containing %q", err, tt.err)
			}
		})
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := Register(fs)
	fs.Parse(nil)
	if c.API.ReadHeaderTimeout != 10*time.Second || c.API.IdleTimeout != time.Minute || c.API.MaxConns != 4096 || c.API.MaxConnsPerClient != 512 {
		t.Errorf("defaults %+v differ from the README's", c.API)
	}
}

// parse registers the flags on a fresh set, parses args and finishes the
// configuration.
func parse(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Register(fs)
	c.DataDir = t.TempDir()
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, c.Finish()
}

// parseWith sets the variables env, parses args and checks the error
// against wantErr ("": none). It returns the configuration, or nil when an
// error was wanted (and got).
func parseWith(t *testing.T, env map[string]string, args []string, wantErr string) *Config {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := parse(t, args...)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("got error %v, want one containing %q", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// settingsCase is a configuration from variables and flags, and what it
// must come to: a Config that want accepts, or an error containing wantErr.
type settingsCase struct {
	name     string
	env      map[string]string
	args     []string
	want     func(c *Config) bool
	wantErr  string
	describe string // what want accepts
}

func TestIngestSettings(t *testing.T) {
	for _, c := range []settingsCase{
		{name: "defaults", describe: "2 workers, 3 attempts, the parsers' own limits",
			env: map[string]string{"SEQSTORE_INGEST_WORKERS": "", "SEQSTORE_INGEST_ATTEMPTS": "", "SEQSTORE_MAX_DECOMPRESSED": "", "SEQSTORE_MAX_FASTQ_LINE": "",
				"SEQSTORE_MAX_HEADER": "", "SEQSTORE_MAX_REFERENCES": "", "SEQSTORE_MAX_BAM_RECORD": "", "SEQSTORE_MAX_CRAM_BLOCK": "", "SEQSTORE_MAX_CRAM_MEMORY": "",
				"SEQSTORE_FASTQ_STORE_LEVEL": ""},
			want: func(c *Config) bool {
				return c.IngestWorkers == DefaultIngestWorkers && DefaultIngestWorkers == 2 && c.IngestAttempts == 3 && c.ParseLimits == analyze.Limits{} &&
					c.FASTQStoreLevel == 6
			}},
		{name: "variables", describe: "the variables' values",
			env: map[string]string{"SEQSTORE_INGEST_WORKERS": "5", "SEQSTORE_INGEST_ATTEMPTS": "7", "SEQSTORE_MAX_DECOMPRESSED": "1000", "SEQSTORE_MAX_REFERENCES": "42", "SEQSTORE_MAX_FASTQ_LINE": "2MiB", "SEQSTORE_MAX_CRAM_MEMORY": "384MiB"},
			want: func(c *Config) bool {
				l := c.ParseLimits
				return c.IngestWorkers == 5 && c.IngestAttempts == 7 && l.Decompressed == 1000 && l.References == 42 && l.FASTQLine == 2<<20 && l.CRAMMemory == 384<<20
			}},
		{name: "flags win over variables", describe: "the flags' values",
			env:  map[string]string{"SEQSTORE_INGEST_WORKERS": "5", "SEQSTORE_MAX_FASTQ_LINE": "10"},
			args: []string{"-ingest-workers", "3", "-max-fastq-line", "20", "-max-header", "30", "-max-bam-record", "40KiB", "-max-cram-block", "50", "-max-cram-memory", "1GiB", "-max-cram-ratio", "100"},
			want: func(c *Config) bool {
				l := c.ParseLimits
				return c.IngestWorkers == 3 && l.FASTQLine == 20 && l.Header == 30 && l.BAMRecord == 40<<10 && l.CRAMBlock == 50 && l.CRAMMemory == 1<<30 && l.CRAMRatio == 100
			}},
		{name: "a variable that is not a number", env: map[string]string{"SEQSTORE_INGEST_ATTEMPTS": "three"}, wantErr: "SEQSTORE_INGEST_ATTEMPTS"},
		{name: "no workers", args: []string{"-ingest-workers", "0"}, wantErr: "-ingest-workers"},
		{name: "no attempts", args: []string{"-ingest-attempts", "0"}, wantErr: "-ingest-attempts"},
		{name: "a store level", describe: "level 2", env: map[string]string{"SEQSTORE_FASTQ_STORE_LEVEL": "4"}, args: []string{"-fastq-store-level", "2"},
			want: func(c *Config) bool { return c.FASTQStoreLevel == 2 }},
		{name: "a store level out of range", args: []string{"-fastq-store-level", "10"}, wantErr: "between 1 and 9"},
		{name: "a negative limit", args: []string{"-max-decompressed", "-1"}, wantErr: "-1"},
		{name: "a limit of nothing", args: []string{"-max-fastq-line", "0"}, wantErr: "between 1 and"},
		{name: "a variable limit that is not a size", env: map[string]string{"SEQSTORE_MAX_BAM_RECORD": "big"}, wantErr: "SEQSTORE_MAX_BAM_RECORD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseWith(t, c.env, c.args, c.wantErr)
			if cfg != nil && !c.want(cfg) {
				t.Fatalf("got workers %d, attempts %d, limits %+v; want %s", cfg.IngestWorkers, cfg.IngestAttempts, cfg.ParseLimits, c.describe)
			}
		})
	}
}

func TestOperationsSettings(t *testing.T) {
	for _, c := range []settingsCase{
		{name: "defaults: no admin listener, no throttling", env: map[string]string{"SEQSTORE_ADMIN_ADDR": "", "SEQSTORE_THROTTLE": ""},
			want: func(c *Config) bool { return c.AdminAddr == "" && c.Throttle == "off" && c.ThrottleScale == 1 }},
		{name: "variables", env: map[string]string{"SEQSTORE_ADMIN_ADDR": "127.0.0.1:9394", "SEQSTORE_THROTTLE": "aws"},
			want: func(c *Config) bool { return c.AdminAddr == "127.0.0.1:9394" && c.Throttle == "aws" }},
		{name: "flags", args: []string{"-admin-addr", ":9999", "-throttle", "aws", "-throttle-scale", "2.5"},
			want: func(c *Config) bool { return c.AdminAddr == ":9999" && c.Throttle == "aws" && c.ThrottleScale == 2.5 }},
		{name: "no S3 read endpoint by default", env: map[string]string{"SEQSTORE_S3_ADDR": ""},
			want: func(c *Config) bool { return c.S3Addr == "" }},
		{name: "the S3 read endpoint from its variable", env: map[string]string{"SEQSTORE_S3_ADDR": "127.0.0.1:9395"},
			want: func(c *Config) bool { return c.S3Addr == "127.0.0.1:9395" }},
		{name: "the S3 read endpoint's flag wins", env: map[string]string{"SEQSTORE_S3_ADDR": "127.0.0.1:9395"}, args: []string{"-s3-addr", ":9000"},
			want: func(c *Config) bool { return c.S3Addr == ":9000" }},
		{name: "refget is signed by default", env: map[string]string{"SEQSTORE_REFGET_PUBLIC": ""},
			want: func(c *Config) bool { return !c.RefgetPublic }},
		{name: "public refget from its variable", env: map[string]string{"SEQSTORE_REFGET_PUBLIC": "true"},
			want: func(c *Config) bool { return c.RefgetPublic }},
		{name: "public refget by flag", args: []string{"-refget-public"},
			want: func(c *Config) bool { return c.RefgetPublic }},
		{name: "a refget variable that is no boolean", env: map[string]string{"SEQSTORE_REFGET_PUBLIC": "yes please"}, wantErr: "SEQSTORE_REFGET_PUBLIC"},
		{name: "an unknown throttle", args: []string{"-throttle", "fast"}, wantErr: "use off or aws"},
		{name: "a scale of nothing", args: []string{"-throttle", "aws", "-throttle-scale", "0"}, wantErr: "-throttle-scale"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseWith(t, c.env, c.args, c.wantErr)
			if cfg != nil && !c.want(cfg) {
				t.Fatalf("got admin %q, throttle %q × %v", cfg.AdminAddr, cfg.Throttle, cfg.ThrottleScale)
			}
		})
	}
}

func TestS3ServerSideEncryption(t *testing.T) {
	for _, tc := range []struct {
		objects  string
		sse, key string
		err      string // "" = accepted
	}{
		{"s3://b/p", "", "", ""},
		{"s3://b/p?sse=AES256", "AES256", "", ""},
		{"s3://b/p?sse=aws:kms", "aws:kms", "", ""},
		{"s3://b/p?sse=aws:kms&sse-kms-key-id=arn:aws:kms:us-east-1:123456789012:key/k", "aws:kms", "arn:aws:kms:us-east-1:123456789012:key/k", ""},
		{"s3://b/p?sse=aes", "", "", "use sse=AES256"},
		{"s3://b/p?sse-kms-key-id=k", "", "", "goes with sse=aws:kms"},
	} {
		c, err := parse(t, "-objects", tc.objects)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want an error containing %q", tc.objects, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.objects, err)
		}
		if loc, _ := c.S3(); loc.SSE != tc.sse || loc.SSEKMSKeyID != tc.key {
			t.Errorf("%s: SSE %q key %q, want %q %q", tc.objects, loc.SSE, loc.SSEKMSKeyID, tc.sse, tc.key)
		}
	}
}

func TestIngestQCSetting(t *testing.T) {
	for _, tt := range []struct {
		args []string
		skip bool
		err  bool
	}{
		{nil, false, false},
		{[]string{"-ingest-qc"}, false, false},
		{[]string{"-ingest-qc=false"}, true, false},
		{[]string{"-ingest-qc=true"}, false, false},
		{[]string{"-ingest-qc=maybe"}, false, true},
	} {
		c, err := parse(t, tt.args...)
		if (err != nil) != tt.err {
			t.Errorf("%q: error %v", tt.args, err)
			continue
		}
		if err == nil && c.SkipQC != tt.skip {
			t.Errorf("%q: SkipQC %v, want %v", tt.args, c.SkipQC, tt.skip)
		}
	}
}
