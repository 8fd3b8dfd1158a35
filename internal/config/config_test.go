package config

import (
	"flag"
	"strings"
	"testing"
	"time"
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
