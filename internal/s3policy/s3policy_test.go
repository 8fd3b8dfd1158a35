package s3policy

import (
	"strings"
	"testing"
)

const (
	owner  = "123456789012"
	other  = "210987654321"
	third  = "555555555555"
	apArn  = "arn:aws:s3:us-east-1:123456789012:accesspoint/123456789012-1234567890"
	object = apArn + "/object/123456789012/sequenceStore/1234567890/readSet/1111111111/a.bam"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		req    Request
		want   Decision
	}{
		{name: "an account ID may get objects",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"` + apArn + `/object/*"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: Allowed},
		{name: "the same grant does not let another account in",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"` + apArn + `/object/*"}]}`,
			req:    Request{Account: third, Action: "s3:GetObject", Resource: object}, want: NotApplicable},
		{name: "nor list the bucket",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"` + apArn + `/object/*"}]}`,
			req:    Request{Account: other, Action: "s3:ListBucket", Resource: apArn}, want: NotApplicable},
		{name: "a root ARN principal and a list of actions",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::210987654321:root"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["` + apArn + `","` + apArn + `/object/*"]}}`,
			req:    Request{Account: other, Action: "s3:ListBucket", Resource: apArn}, want: Allowed},
		{name: "a user ARN matches no seqstore key",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:user/alice"},"Action":"s3:*","Resource":"*"}}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: NotApplicable},
		{name: "anyone with s3:Get* wildcards, actions matched without case",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"S3:get*","Resource":"*"}]}`,
			req:    Request{Account: third, Action: "s3:GetObject", Resource: object}, want: Allowed},
		{name: "a Deny wins over an Allow",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"` + other + `"},"Action":"s3:GetObject","Resource":"` + apArn + `/object/*/readSet/1111111111/*"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: Denied},
		{name: "the Deny covers only what it names",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"` + other + `"},"Action":"s3:GetObject","Resource":"` + apArn + `/object/*/readSet/2222222222/*"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: Allowed},
		{name: "NotAction",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:ListBucket","Resource":"*"}]}`,
			req:    Request{Account: other, Action: "s3:ListBucket", Resource: apArn}, want: NotApplicable},
		{name: "NotResource",
			policy: `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","NotResource":"` + apArn + `/object/*.bai"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: Denied},
		{name: "? matches one character",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + apArn + `/object/*/a.ba?"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: Allowed},
		{name: "resources are matched with case",
			policy: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + strings.Replace(apArn, "accesspoint/123", "ACCESSPOINT/123", 1) + `/object/*"}]}`,
			req:    Request{Account: other, Action: "s3:GetObject", Resource: object}, want: NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.policy)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.Decide(tt.req); got != tt.want {
				t.Fatalf("Decide = %v, want %v", got, tt.want)
			}
		})
	}
	if (*Policy)(nil).Decide(Request{Account: other}) != NotApplicable {
		t.Fatal("a nil policy applies")
	}
}

func TestParseRefuses(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	tests := []struct{ name, policy, want string }{
		{"not JSON", `{"Version":`, "not a JSON object"},
		{"trailing text", `{"Statement":[]} x`, "not a JSON object"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"empty statement list", `{"Statement":[]}`, "empty"},
		{"an unknown top-level member", `{"Statment":[]}`, `"Statment"`},
		{"a bad version", `{"Version":"2020-01-01","Statement":[]}`, "Version"},
		{"a bad effect", stmt(`{"Effect":"allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "Effect"},
		{"a missing effect", stmt(`{"Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "missing"},
		{"no principal", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), "needs a Principal"},
		{"a bare account principal", stmt(`{"Effect":"Allow","Principal":"210987654321","Action":"s3:GetObject","Resource":"*"}`), `must be "*"`},
		{"a service principal", stmt(`{"Effect":"Allow","Principal":{"Service":"omics.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}`), `"Service" is not supported`},
		{"a short account", stmt(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:GetObject","Resource":"*"}`), "IAM ARN"},
		{"an ARN with a wildcard", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:*"},"Action":"s3:GetObject","Resource":"*"}`), "without wildcards"},
		{"a condition", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), "Condition is not supported"},
		{"NotPrincipal", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"*"}`), "NotPrincipal"},
		{"a misspelled member", stmt(`{"Effect":"Allow","Principal":"*","Actions":"s3:GetObject","Resource":"*"}`), `"Actions"`},
		{"both Action and NotAction", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotAction":"s3:ListBucket","Resource":"*"}`), "exactly one"},
		{"no action", stmt(`{"Effect":"Allow","Principal":"*","Resource":"*"}`), "exactly one"},
		{"another service's action", stmt(`{"Effect":"Allow","Principal":"*","Action":"omics:GetReadSet","Resource":"*"}`), "not an S3 action"},
		{"an action without service", stmt(`{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"*"}`), "SERVICE:ACTION"},
		{"an empty action list", stmt(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}`), "empty list"},
		{"a number as action", stmt(`{"Effect":"Allow","Principal":"*","Action":7,"Resource":"*"}`), "string or a list"},
		{"no resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), "needs a Resource"},
		{"a resource that is no ARN", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"my-bucket/*"}`), "an ARN"},
		{"Resource and NotResource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","NotResource":"*"}`), "not both"},
		{"a repeated Sid", stmt(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "unique"},
		{"a statement that is no object", stmt(`"x"`), "JSON object"},
		{"too large", `{"Statement":"` + strings.Repeat("x", MaxDocumentBytes) + `"}`, "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.policy)
			if err == nil {
				t.Fatalf("Parse accepted %s", tt.policy)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*a*b*", "xxaxxbxx", true}, {"*a*b", "xxaxxbxx", false},
		{"abc", "abc", true}, {"abc", "abd", false}, {"a**", "a", true}, {"**?", "", false},
	}
	for _, tt := range tests {
		if got := Match(tt.p, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

// FuzzParse feeds Parse arbitrary documents: it must never panic, and a
// policy it accepts must be one whose every statement it can evaluate.
func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"s3:GetObject","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","Principal":"*","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::x"}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::210987654321:root","*"]},"Action":"*","Resource":"arn:*"}]}`)
	f.Add(`[]`)
	f.Add(`{"Statement":[{"Condition":{}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		if len(p.Statements) == 0 {
			t.Fatalf("Parse accepted a policy without statements: %q", doc)
		}
		for _, st := range p.Statements {
			if st.Effect != Allow && st.Effect != Deny || len(st.Principals) == 0 || (st.Actions == nil) == (st.NotActions == nil) {
				t.Fatalf("Parse accepted an incomplete statement %+v from %q", st, doc)
			}
		}
		p.Decide(Request{Account: other, Action: "s3:GetObject", Resource: object})
	})
}
