package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// run runs the binary and returns its stdout, stderr and whether it exited 0.
func run(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("seqstore %q did not finish:\n%s", args, errOut.String())
	}
	return out.String(), errOut.String(), err == nil
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, errOut, ok := run(t, bin, nil, args...)
	if !ok {
		t.Fatalf("seqstore %q failed:\n%s%s", args, out, errOut)
	}
	return out
}

var accessKeyLine = regexp.MustCompile(`(?m)^export AWS_ACCESS_KEY_ID=(\S+)$`)

func TestAdmin(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()

	t.Run("each command's -h lists its own flags and exits 0", func(t *testing.T) {
		for _, c := range []struct {
			args      []string
			want, not []string
		}{
			{[]string{"account", "create"}, []string{"-name", "-id", "-data", "-metadata"}, []string{"-account", "-addr", "-ingest-workers"}},
			{[]string{"account", "list"}, []string{"-data", "-metadata"}, []string{"-name", "-account", "-addr"}},
			{[]string{"key", "create"}, []string{"-account", "-data"}, []string{"-name", "-id", "-addr"}},
			{[]string{"key", "list"}, []string{"-account", "-data"}, []string{"-name", "-addr"}},
			{[]string{"key", "delete"}, []string{"KEYID", "-data"}, []string{"-account", "-name", "-addr"}},
			{[]string{"token", "create"}, []string{"-account", "-ttl", "-name", "-data"}, []string{"-id", "-addr"}},
			{[]string{"token", "list"}, []string{"-account", "-data"}, []string{"-ttl", "-name", "-addr"}},
			{[]string{"token", "revoke"}, []string{"TOKENID", "-data"}, []string{"-account", "-ttl", "-addr"}},
			{[]string{"keyring", "add"}, []string{"NAME", "-keyring"}, []string{"-data", "-objects", "-addr"}},
			{[]string{"rewrap"}, []string{"-keyring", "-objects", "-data", "-metadata"}, []string{"-account", "-addr", "-ingest-workers"}},
		} {
			out, errOut, ok := run(t, bin, nil, append(append([]string{"admin"}, c.args...), "-h")...)
			if !ok {
				t.Errorf("admin %v -h failed:\n%s", c.args, errOut)
			}
			help := out + errOut
			for _, w := range c.want {
				if !strings.Contains(help, w) {
					t.Errorf("admin %v -h does not mention %s:\n%s", c.args, w, help)
				}
			}
			for _, n := range c.not {
				if strings.Contains(help, n+" ") || strings.Contains(help, n+"\n") {
					t.Errorf("admin %v -h lists %s, another command's flag:\n%s", c.args, n, help)
				}
			}
		}
		if out, errOut, ok := run(t, bin, nil, "admin", "-h"); !ok || !strings.Contains(out, "key delete KEYID") {
			t.Errorf("admin -h: ok=%v\n%s%s", ok, out, errOut)
		}
	})

	var accountB string
	t.Run("accounts are created, listed, and their names are unique", func(t *testing.T) {
		out := mustRun(t, bin, "admin", "account", "create", "-data", data, "-name", "lab-a", "-id", "111111111111")
		if !accessKeyLine.MatchString(out) {
			t.Fatalf("account create printed no key:\n%s", out)
		}
		out = mustRun(t, bin, "admin", "account", "create", "-data", data, "-name", "lab-b")
		accountB = regexp.MustCompile(`(?m)^account (\d{12})$`).FindStringSubmatch(out)[1]

		_, errOut, ok := run(t, bin, nil, "admin", "account", "create", "-data", data, "-name", "lab-a")
		if ok || !strings.Contains(errOut, `an account named "lab-a" exists already: 111111111111`) {
			t.Errorf("a second lab-a: ok=%v\n%s", ok, errOut)
		}
		_, errOut, ok = run(t, bin, nil, "admin", "account", "create", "-data", data, "-name", "lab-c", "-id", "111111111111")
		if ok || !strings.Contains(errOut, "account 111111111111 exists already") {
			t.Errorf("a reused account ID: ok=%v\n%s", ok, errOut)
		}
		list := mustRun(t, bin, "admin", "account", "list", "-data", data)
		if strings.Count(list, "lab-a") != 1 || !strings.Contains(list, accountB+"  lab-b") || strings.Contains(list, "lab-c") {
			t.Errorf("account list:\n%s", list)
		}
	})

	t.Run("an unknown account is an error", func(t *testing.T) {
		for _, cmd := range [][]string{{"key", "list"}, {"key", "create"}, {"token", "create"}, {"token", "list"}} {
			out, errOut, ok := run(t, bin, nil, append(append([]string{"admin"}, cmd...), "-data", data, "-account", "999999999999")...)
			if ok || !strings.Contains(errOut, "no account 999999999999") || out != "" {
				t.Errorf("admin %v of an unknown account: ok=%v, stdout %q\n%s", cmd, ok, out, errOut)
			}
		}
	})

	t.Run("flags may follow positional arguments", func(t *testing.T) {
		out := mustRun(t, bin, "admin", "key", "create", "-account", accountB, "-data", data)
		id := accessKeyLine.FindStringSubmatch(out)[1]
		if list := mustRun(t, bin, "admin", "key", "list", "-account", accountB, "-data", data); !strings.Contains(list, id) {
			t.Fatalf("key list lacks %s:\n%s", id, list)
		}
		if out := mustRun(t, bin, "admin", "key", "delete", id, "-data", data); !strings.Contains(out, "deleted "+id) {
			t.Errorf("key delete printed %q", out)
		}
		if list := mustRun(t, bin, "admin", "key", "list", "-data", data, "-account", accountB); strings.Contains(list, id) {
			t.Errorf("key list after the delete still has %s:\n%s", id, list)
		}
		_, errOut, ok := run(t, bin, nil, "admin", "key", "delete", id, "-data", data)
		if ok || !strings.Contains(errOut, "no access key "+id) {
			t.Errorf("deleting %s again: ok=%v\n%s", id, ok, errOut)
		}
	})

	t.Run("bearer tokens are printed once, listed by ID and revoked", func(t *testing.T) {
		out := mustRun(t, bin, "admin", "token", "create", "-data", data, "-account", "lab-a", "--ttl", "90d", "--name", "igv")
		m := regexp.MustCompile(`(?m)^token ([0-9a-f]{16}), expires (\S+)\n(?:#.*\n)?(sqt_\S+)\n$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("token create printed:\n%s", out)
		}
		id, token := m[1], m[3]
		if exp, err := time.Parse(time.RFC3339, m[2]); err != nil || time.Until(exp) < 89*24*time.Hour || time.Until(exp) > 90*24*time.Hour {
			t.Errorf("a 90d token expires %s", m[2])
		}
		out = mustRun(t, bin, "admin", "token", "create", "-data", data, "-account", accountB)
		if !strings.Contains(out, "account "+accountB+"\n") || !strings.Contains(out, "expires never") {
			t.Errorf("token create without -ttl printed:\n%s", out)
		}
		list := mustRun(t, bin, "admin", "token", "list", "-data", data, "-account", "111111111111")
		if !regexp.MustCompile(id+`\s+igv\s+\S+\s+\S+\s+active`).MatchString(list) || strings.Contains(list, token[20:]) || strings.Count(list, "\n") != 2 {
			t.Errorf("token list of lab-a:\n%s", list)
		}
		if out := mustRun(t, bin, "admin", "token", "revoke", id, "-data", data); out != "revoked "+id+"\n" {
			t.Errorf("token revoke printed %q", out)
		}
		if list := mustRun(t, bin, "admin", "token", "list", "-data", data, "-account", "lab-a"); !strings.Contains(list, "revoked 20") {
			t.Errorf("token list after the revocation:\n%s", list)
		}
		for _, c := range []struct {
			args []string
			says string
		}{
			{[]string{"token", "revoke", "ffffffffffffffff"}, "no token ffffffffffffffff"},
			{[]string{"token", "create", "-account", "lab-a", "-ttl", "-5m"}, "not a positive duration"},
			{[]string{"token", "create", "-account", "lab-a", "-ttl", "xd"}, "not a whole number of days"},
			{[]string{"token", "create"}, "-account is required"},
		} {
			_, errOut, ok := run(t, bin, nil, append(append([]string{"admin"}, c.args...), "-data", data)...)
			if ok || !strings.Contains(errOut, c.says) {
				t.Errorf("admin %v: ok=%v\n%s", c.args, ok, errOut)
			}
		}
	})

	t.Run("a missing data directory is named and not created", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "typo")
		for _, cmd := range [][]string{{"account", "list"}, {"account", "create", "-name", "x"}, {"key", "list", "-account", "111111111111"}, {"token", "create", "-account", "111111111111"}, {"token", "revoke", "0123456789abcdef"}} {
			_, errOut, ok := run(t, bin, nil, append(append([]string{"admin"}, cmd...), "-data", missing)...)
			if ok || !strings.Contains(errOut, "no seqstore data directory at "+missing) {
				t.Errorf("admin %v on a missing directory: ok=%v\n%s", cmd, ok, errOut)
			}
			if _, err := os.Stat(missing); !os.IsNotExist(err) {
				t.Fatalf("admin %v made %s: %v", cmd, missing, err)
			}
		}
	})
}

// A root key deleted with admin does not come back when the server
// restarts: neither the generated one in the data directory, nor one the
// environment names. The server refuses to start and says what to do.
func TestDeletedRootKeyStaysDeleted(t *testing.T) {
	bin := buildBinary(t)
	t.Run("generated", func(t *testing.T) {
		data := t.TempDir()
		addr := freeAddr(t)
		first := serve(t, bin, data, addr)
		env := exports(t, first.stderr.String())
		first.stop(t)
		id := strings.TrimPrefix(env[0], "AWS_ACCESS_KEY_ID=")
		mustRun(t, bin, "admin", "key", "delete", id, "-data", data)
		_, errOut, ok := run(t, bin, nil, "serve", "-addr", addr, "-data", data)
		file := filepath.Join(data, "root-credentials")
		if ok || !strings.Contains(errOut, "the root key "+id+" kept in "+file+" was deleted") || !strings.Contains(errOut, "remove that file") {
			t.Fatalf("serve after the root key was deleted: ok=%v\n%s", ok, errOut)
		}
		// Removing the file, as the message says, makes a new key.
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		again := serve(t, bin, data, addr)
		if env := exports(t, again.stderr.String()); env[0] == "AWS_ACCESS_KEY_ID="+id {
			t.Fatalf("the deleted key came back: %v", env)
		}
		again.stop(t)
	})
	t.Run("environment", func(t *testing.T) {
		data := t.TempDir()
		addr := freeAddr(t)
		key := []string{"SEQSTORE_ACCESS_KEY_ID=ENVROOTKEY0000000001", "SEQSTORE_SECRET_ACCESS_KEY=environment secret"}
		serve(t, bin, data, addr, key...).stop(t)
		mustRun(t, bin, "admin", "key", "delete", "ENVROOTKEY0000000001", "-data", data)
		_, errOut, ok := run(t, bin, key, "serve", "-addr", addr, "-data", data)
		if ok || !strings.Contains(errOut, "the root key ENVROOTKEY0000000001 in SEQSTORE_ACCESS_KEY_ID was deleted") {
			t.Fatalf("serve with the deleted key in its environment: ok=%v\n%s", ok, errOut)
		}
		serve(t, bin, data, addr, "SEQSTORE_ACCESS_KEY_ID=ENVROOTKEY0000000002", "SEQSTORE_SECRET_ACCESS_KEY=new secret").stop(t)
	})
}
