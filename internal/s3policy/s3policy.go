// Package s3policy reads the resource policy of a store's S3 access point
// (the document PutS3AccessPolicy stores) and decides what it allows: which
// principals may take which S3 actions on which resources. It knows the
// part of the IAM policy language an access point's policy uses: Allow and
// Deny statements over principals (account IDs, account root ARNs, "*"),
// actions and resources with * and ? wildcards, and NotAction and
// NotResource. A document it cannot evaluate faithfully (conditions,
// NotPrincipal, actions of other services, a misspelled member) is refused
// by Parse with the reason, so that no policy is stored that means less, or
// more, than its writer thought.
//
// Evaluation follows IAM's rule: an explicit Deny wins, then an Allow, and
// anything else is denied.
package s3policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxDocumentBytes bounds what Parse reads; HealthOmics' quota on a policy
// is 15 KB, the model's limit 100000 characters.
const MaxDocumentBytes = 100000

// Effect is what a matching statement does.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed policy document.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Actions and
// NotActions, and at most one of Resources and NotResources, are set.
type Statement struct {
	Sid          string
	Effect       Effect
	Principals   []Principal
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
}

// Principal is one principal a statement names: "*" (anyone with a key), a
// 12-digit account ID, or an IAM ARN of an account (its root, a user or a
// role: seqstore's keys belong to accounts, so only "*", the account ID and
// arn:aws:iam::ACCOUNT:root match one).
type Principal string

// Request is one access to decide.
type Request struct {
	// Account is the account of the key that signed the request.
	Account string
	// Action is the S3 action, such as s3:GetObject.
	Action string
	// Resource is the ARN the action is on: the access point's ARN for
	// s3:ListBucket, ARN + "/object/" + key for s3:GetObject.
	Resource string
}

// Decision is the outcome of evaluating a policy for a request.
type Decision int

const (
	// NotApplicable: no statement matches; the request is implicitly
	// denied unless something else (ownership) grants it.
	NotApplicable Decision = iota
	// Allowed: an Allow statement matches and no Deny does.
	Allowed
	// Denied: a Deny statement matches.
	Denied
)

// Decide evaluates p for req. A nil policy applies to nothing.
func (p *Policy) Decide(req Request) Decision {
	if p == nil {
		return NotApplicable
	}
	d := NotApplicable
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matches(req) {
			continue
		}
		if st.Effect == Deny {
			return Denied
		}
		d = Allowed
	}
	return d
}

func (st *Statement) matches(req Request) bool {
	principal := false
	for _, p := range st.Principals {
		if p.matches(req.Account) {
			principal = true
			break
		}
	}
	if !principal {
		return false
	}
	if st.Actions != nil && !anyMatch(st.Actions, req.Action, true) {
		return false
	}
	if st.NotActions != nil && anyMatch(st.NotActions, req.Action, true) {
		return false
	}
	if st.Resources != nil && !anyMatch(st.Resources, req.Resource, false) {
		return false
	}
	if st.NotResources != nil && anyMatch(st.NotResources, req.Resource, false) {
		return false
	}
	return true
}

func (p Principal) matches(account string) bool {
	s := string(p)
	if s == "*" || s == account {
		return true
	}
	a, err := parsePrincipalARN(s)
	return err == nil && a.account == account && a.resource == "root"
}

func anyMatch(patterns []string, s string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the IAM pattern p, where * matches any
// run of characters (none included) and ? any one character. It runs in
// O(len(p)·len(s)) at worst, without recursion.
func Match(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Parse reads a policy document, refusing, with a message that says what to
// change, one it cannot evaluate as written.
func Parse(doc string) (*Policy, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, fmt.Errorf("the policy is %d bytes; at most %d are read", len(doc), MaxDocumentBytes)
	}
	var raw map[string]json.RawMessage
	if err := strictUnmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("the policy is not a JSON object: %v", err)
	}
	for k := range raw {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, fmt.Errorf("the policy has the member %q; a policy has Version, Id and Statement", k)
		}
	}
	if v, ok := raw["Version"]; ok {
		var version string
		if err := json.Unmarshal(v, &version); err != nil || (version != "2012-10-17" && version != "2008-10-17") {
			return nil, fmt.Errorf("the Version must be \"2012-10-17\" (or \"2008-10-17\"), not %s", v)
		}
	}
	stmts, ok := raw["Statement"]
	if !ok {
		return nil, errors.New("the policy has no Statement")
	}
	var list []json.RawMessage
	if trimmed := bytes.TrimSpace(stmts); len(trimmed) > 0 && trimmed[0] == '{' {
		list = []json.RawMessage{stmts}
	} else if err := json.Unmarshal(stmts, &list); err != nil {
		return nil, errors.New("Statement must be a statement object or a list of them")
	}
	if len(list) == 0 {
		return nil, errors.New("Statement is empty; a policy needs at least one statement")
	}
	p := &Policy{}
	sids := map[string]bool{}
	for i, m := range list {
		st, err := parseStatement(m)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %v", i+1, err)
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, fmt.Errorf("statement %d: Sid %q is used by an earlier statement; Sids must be unique", i+1, st.Sid)
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("text follows the JSON object")
	}
	return nil
}

func parseStatement(m json.RawMessage) (Statement, error) {
	var st Statement
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(m, &raw); err != nil {
		return st, errors.New("a statement must be a JSON object")
	}
	for k := range raw {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource":
		case "Condition":
			return st, errors.New("a Condition is not supported by seqstore's S3 endpoint; grant by principal, action and resource")
		case "NotPrincipal":
			return st, errors.New("NotPrincipal is not supported; name the principals to allow or deny in Principal")
		default:
			return st, fmt.Errorf("unknown member %q; a statement has Sid, Effect, Principal, Action or NotAction, and Resource or NotResource", k)
		}
	}
	if v, ok := raw["Sid"]; ok {
		if err := json.Unmarshal(v, &st.Sid); err != nil {
			return st, errors.New("the Sid must be a string")
		}
	}
	var effect string
	if err := json.Unmarshal(raw["Effect"], &effect); err != nil || (effect != string(Allow) && effect != string(Deny)) {
		return st, fmt.Errorf("Effect must be \"Allow\" or \"Deny\", not %s", orMissing(raw["Effect"]))
	}
	st.Effect = Effect(effect)
	var err error
	if st.Principals, err = parsePrincipals(raw["Principal"]); err != nil {
		return st, err
	}
	_, hasAction := raw["Action"]
	_, hasNotAction := raw["NotAction"]
	switch {
	case hasAction == hasNotAction:
		return st, errors.New("a statement needs exactly one of Action and NotAction")
	case hasAction:
		st.Actions, err = parseActions("Action", raw["Action"])
	default:
		st.NotActions, err = parseActions("NotAction", raw["NotAction"])
	}
	if err != nil {
		return st, err
	}
	_, hasResource := raw["Resource"]
	_, hasNotResource := raw["NotResource"]
	switch {
	case hasResource && hasNotResource:
		return st, errors.New("a statement takes Resource or NotResource, not both")
	case hasResource:
		st.Resources, err = parseResources("Resource", raw["Resource"])
	case hasNotResource:
		st.NotResources, err = parseResources("NotResource", raw["NotResource"])
	default:
		return st, errors.New("a statement needs a Resource (the access point's ARN, or ARN/object/KEY for objects)")
	}
	return st, err
}

func orMissing(v json.RawMessage) string {
	if v == nil {
		return "missing"
	}
	return string(v)
}

// stringOrList reads a JSON string or a non-empty list of strings.
func stringOrList(name string, v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, fmt.Errorf("%s must be a string or a list of strings, not %s", name, v)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s is an empty list", name)
	}
	return list, nil
}

func parsePrincipals(v json.RawMessage) ([]Principal, error) {
	if v == nil {
		return nil, errors.New("a statement of a resource policy needs a Principal: \"*\" or {\"AWS\": [ACCOUNT IDS or ARNS]}")
	}
	var star string
	if err := json.Unmarshal(v, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("Principal %q: a bare string must be \"*\"; name accounts as {\"AWS\": [...]}", star)
		}
		return []Principal{"*"}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}, not %s", v)
	}
	var out []Principal
	for k, vals := range m {
		if k != "AWS" {
			return nil, fmt.Errorf("Principal %q is not supported; seqstore's keys are AWS account principals: use {\"AWS\": ...}", k)
		}
		list, err := stringOrList("Principal.AWS", vals)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if err := checkPrincipal(s); err != nil {
				return nil, err
			}
			out = append(out, Principal(s))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("Principal names no principal")
	}
	return out, nil
}

func checkPrincipal(s string) error {
	if s == "*" || isAccountID(s) {
		return nil
	}
	if _, err := parsePrincipalARN(s); err != nil {
		return fmt.Errorf("Principal %q: %v", s, err)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

type principalARN struct{ account, resource string }

// parsePrincipalARN reads arn:PARTITION:iam::ACCOUNT:RESOURCE (root,
// user/NAME, role/NAME).
func parsePrincipalARN(s string) (principalARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || parts[3] != "" {
		return principalARN{}, errors.New("is neither \"*\", a 12-digit account ID nor an IAM ARN (arn:aws:iam::ACCOUNT:root)")
	}
	if !isAccountID(parts[4]) {
		return principalARN{}, fmt.Errorf("the account %q of the ARN is not 12 digits", parts[4])
	}
	if parts[5] == "" || strings.ContainsAny(parts[5], "*?") {
		return principalARN{}, errors.New("the ARN must name a principal without wildcards (root, user/NAME or role/NAME)")
	}
	return principalARN{account: parts[4], resource: parts[5]}, nil
}

func parseActions(name string, v json.RawMessage) ([]string, error) {
	list, err := stringOrList(name, v)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if a == "*" {
			continue
		}
		service, action, ok := strings.Cut(a, ":")
		if !ok || action == "" {
			return nil, fmt.Errorf("%s %q must be SERVICE:ACTION, such as s3:GetObject", name, a)
		}
		if !strings.EqualFold(service, "s3") {
			return nil, fmt.Errorf("%s %q is not an S3 action; an access point's policy governs s3:GetObject, s3:ListBucket and the like", name, a)
		}
	}
	return list, nil
}

func parseResources(name string, v json.RawMessage) ([]string, error) {
	list, err := stringOrList(name, v)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return nil, fmt.Errorf("%s %q must be \"*\" or an ARN, such as arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/object/*", name, r)
		}
	}
	return list, nil
}
