package main

import (
	"strings"
	"testing"
	"time"
)

func TestTTLFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"12h", 12 * time.Hour, ""},
		{"90d", 90 * 24 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"0", 0, "not a positive duration"},
		{"-5m", 0, "not a positive duration"},
		{"0d", 0, "not a whole number of days"},
		{"1.5d", 0, "not a whole number of days"},
		{"9999999999999d", 0, "not a whole number of days"},
		{"d", 0, "not a whole number of days"},
		{"week", 0, "not a positive duration"},
	} {
		var f ttlFlag
		err := f.Set(c.in)
		if c.err == "" && (err != nil || time.Duration(f) != c.want) || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: %v, %v; want %v, %q", c.in, time.Duration(f), err, c.want, c.err)
		}
	}
}

// FuzzTTLFlag: whatever -ttl is given, Set does not panic, and what it
// takes is a positive duration.
func FuzzTTLFlag(f *testing.F) {
	for _, s := range []string{"12h", "90d", "-1d", "9999999999999d", "1e3h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ttl ttlFlag
		if ttl.Set(s) == nil && ttl <= 0 {
			t.Fatalf("%q gave %v", s, time.Duration(ttl))
		}
	})
}
