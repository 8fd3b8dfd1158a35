package api

import (
	"strings"
	"testing"
)

func TestPageTokensRoundTrip(t *testing.T) {
	p := &pageTokens{key: []byte("secret")}
	tok := p.seal("ListReadSets", "123456789012", "store=1;filter=x", "1700000000000:123")
	got, err := p.open("ListReadSets", "123456789012", "store=1;filter=x", tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1700000000000:123"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if p.seal("op", "a", "s", "") != "" {
		t.Fatal("an empty page key must give no token")
	}
}

func TestPageTokensRefuse(t *testing.T) {
	p := &pageTokens{key: []byte("secret")}
	tok := p.seal("ListReadSets", "123456789012", "filter", "k1")
	other := &pageTokens{key: []byte("other secret")}
	tests := []struct {
		name                  string
		op, account, scope, t string
		tokens                *pageTokens
	}{
		{"a tampered body", "ListReadSets", "123456789012", "filter", "x" + tok, p},
		{"a tampered signature", "ListReadSets", "123456789012", "filter", tok[:len(tok)-2] + "AA", p},
		{"another operation", "ListSequenceStores", "123456789012", "filter", tok, p},
		{"another account", "ListReadSets", "210987654321", "filter", tok, p},
		{"another filter", "ListReadSets", "123456789012", "other filter", tok, p},
		{"another server's key", "ListReadSets", "123456789012", "filter", tok, other},
		{"garbage", "ListReadSets", "123456789012", "filter", "not-a-token", p},
		{"no signature", "ListReadSets", "123456789012", "filter", strings.Split(tok, ".")[0], p},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.tokens.open(tt.op, tt.account, tt.scope, tt.t); err == nil {
				t.Fatal("token accepted, want an error")
			}
		})
	}
}
